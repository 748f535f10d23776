import Foundation

/// Host memory for the CPU backend.
final class CPUStorage: DeviceStorage {
    let pointer: UnsafeMutablePointer<Float>
    let capacity: Int
    private let onFree: (Int) -> Void

    init(capacity: Int, onFree: @escaping (Int) -> Void) {
        self.capacity = capacity
        pointer = .allocate(capacity: max(capacity, 1))
        self.onFree = onFree
    }

    deinit {
        pointer.deallocate()
        onFree(capacity * 4)
    }
}

/// The reference backend: plain Swift loops, GEMM through OpenBLAS. Every OpenCL kernel is
/// tested against the matching function in the `+CPU` files next to this one.
public final class CPUBackend: Backend {
    public var deviceName: String { "cpu" }
    public private(set) var memory = MemoryStats()

    public init() {}

    public func allocate(_ shape: Shape, name: String) throws -> Tensor {
        let bytes = shape.count * 4
        memory.bytesInUse += bytes
        memory.peakBytes = max(memory.peakBytes, memory.bytesInUse)
        let storage = CPUStorage(capacity: shape.count) { [weak self] freed in self?.memory.bytesInUse -= freed }
        return Tensor(shape: shape, storage: storage, name: name, owner: ObjectIdentifier(self))
    }

    public func upload(_ values: [Float], shape: Shape, name: String) throws -> Tensor {
        guard values.count == shape.count else {
            throw ShapeError(op: "upload", "\(name): \(values.count) values for shape \(shape)")
        }
        let t = try allocate(shape, name: name)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { (t.storage as! CPUStorage).pointer.update(from: base, count: values.count) }
        }
        memory.uploads += 1
        return t
    }

    public func download(_ tensor: Tensor) throws -> [Float] {
        let p = try ptr(tensor, "download")
        memory.downloads += 1
        return Array(UnsafeBufferPointer(start: p, count: tensor.count))
    }

    public func synchronize() throws {}

    /// The host pointer behind a tensor of this backend.
    func ptr(_ t: Tensor, _ op: String) throws -> UnsafeMutablePointer<Float> {
        guard t.owner == ObjectIdentifier(self), let s = t.storage as? CPUStorage else {
            throw DeviceError.foreignTensor(op: op, tensor: t.name)
        }
        return s.pointer
    }
}
