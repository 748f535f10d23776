import CBLAS
import Foundation

/// Host memory for the CPU backend; returned to the pool when the tensor is gone.
final class CPUStorage: DeviceStorage {
    let pointer: UnsafeMutablePointer<Float>
    let capacity: Int
    /// The pool it returns to, or (a view) the storage it points into, kept alive while the view is.
    private let owner: Either

    enum Either { case pool(HostPool), base(CPUStorage) }

    init(pointer: UnsafeMutablePointer<Float>, capacity: Int, pool: HostPool) {
        self.pointer = pointer
        self.capacity = capacity
        owner = .pool(pool)
    }

    /// A view of `count` floats of `base` from `offset`.
    init(viewOf base: CPUStorage, offset: Int, count: Int) {
        pointer = base.pointer + offset
        capacity = count
        owner = .base(base)
    }

    deinit { if case let .pool(pool) = owner { pool.release(pointer, capacity: capacity) } }
}

/// Size-bucketed reuse of host buffers (the same buckets as the OpenCL pool): without it every op
/// would map and fault in fresh pages.
final class HostPool {
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private(set) var stats = MemoryStats()

    func allocate(floats: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let capacity = BufferPool.bucket(max(floats, 1) * 4) / 4
        stats.bytesInUse += capacity * 4
        stats.peakBytes = max(stats.peakBytes, stats.bytesInUse)
        if var list = free[capacity], let p = list.popLast() {
            free[capacity] = list
            return (p, capacity)
        }
        return (.allocate(capacity: capacity), capacity)
    }

    func release(_ p: UnsafeMutablePointer<Float>, capacity: Int) {
        stats.bytesInUse -= capacity * 4
        free[capacity, default: []].append(p)
    }

    func countTransfer(upload: Bool) { if upload { stats.uploads += 1 } else { stats.downloads += 1 } }

    deinit { for list in free.values { for p in list { p.deallocate() } } }
}

/// The reference backend: plain Swift loops, GEMM through OpenBLAS. Every OpenCL kernel is
/// tested against the matching function in the `+CPU` files next to this one.
public final class CPUBackend: Backend {
    public var deviceName: String { "cpu" }
    private let pool = HostPool()
    public var memory: MemoryStats { pool.stats }
    /// The convolution column buffer (`columnWorkspace`).
    private var columnScratch: Tensor?
    public func columnWorkspace(_ shape: Shape) throws -> Tensor { try columnWorkspace(shape, held: &columnScratch) }
    /// Cores that `gemm` splits large products across.
    let cores: Int

    /// OpenBLAS is set to one thread: its idle workers spin in sched_yield between calls, taking the
    /// cores from the backend's own threads; `gemm` splits large products across the cores instead.
    /// - Parameter cores: how many cores large loops and products are split across (default: all); the split
    ///   changes float32 summation order, not the arithmetic.
    public init(cores: Int? = nil) {
        self.cores = max(1, cores ?? ProcessInfo.processInfo.activeProcessorCount)
        openblas_set_num_threads(1)
    }

    public func allocate(_ shape: Shape, name: String) throws -> Tensor {
        let (p, capacity) = pool.allocate(floats: shape.count)
        return Tensor(shape: shape, storage: CPUStorage(pointer: p, capacity: capacity, pool: pool), name: name,
                      owner: ObjectIdentifier(self))
    }

    public func upload(_ values: [Float], shape: Shape, name: String) throws -> Tensor {
        guard values.count == shape.count else {
            throw ShapeError(op: "upload", "\(name): \(values.count) values for shape \(shape)")
        }
        let t = try allocate(shape, name: name)
        try write(values, into: t)
        return t
    }

    public func download(_ tensor: Tensor) throws -> [Float] {
        let p = try ptr(tensor, "download")
        pool.countTransfer(upload: false)
        return Array(UnsafeBufferPointer(start: p, count: tensor.count))
    }

    public func synchronize() throws {}

    public func fence() throws -> DeviceFence { DeviceFence(marker: nil) }

    public func write(_ values: [Float], into tensor: Tensor, after: DeviceFence) throws {
        guard values.count == tensor.count else {
            throw ShapeError(op: "write", "\(tensor.name): \(values.count) values for shape \(tensor.shape)")
        }
        let p = try ptr(tensor, "write")
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { p.update(from: base, count: values.count) } }
        pool.countTransfer(upload: true)
    }

    public func beginDownload(_ tensor: Tensor) throws -> PendingDownload {
        let values = try download(tensor)
        return PendingDownload { values }
    }

    public var viewAlignment: Int { 16 }

    public var convWorkspaceFloats: Int { columnSlabFloats ?? defaultConvWorkspaceFloats }
    /// Overrides `convWorkspaceFloats` (tests cut a convolution into many slabs with it).
    public var columnSlabFloats: Int?

    public func view(of base: Tensor, offset: Int, shape: Shape, name: String) throws -> Tensor {
        _ = try ptr(base, "view")
        try checkView(base, offset, shape, name)
        return Tensor(shape: shape, storage: CPUStorage(viewOf: base.storage as! CPUStorage, offset: offset, count: shape.count),
                      name: name, owner: ObjectIdentifier(self))
    }

    /// The host pointer behind a tensor of this backend.
    func ptr(_ t: Tensor, _ op: String) throws -> UnsafeMutablePointer<Float> {
        guard t.owner == ObjectIdentifier(self), let s = t.storage as? CPUStorage else {
            throw DeviceError.foreignTensor(op: op, tensor: t.name)
        }
        return s.pointer
    }
}
