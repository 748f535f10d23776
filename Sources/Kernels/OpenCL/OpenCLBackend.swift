import COpenCL
import Foundation

/// The fast path: kernels/*.cl on any OpenCL 1.2 device (PoCL on the CPU in CI), GEMM through
/// CLBlast. One context, an in-order queue for kernels and one for batch uploads; tensors stay in pooled device buffers.
public final class OpenCLBackend: Backend {
    public let device: CLDeviceInfo
    let handle: CLContextHandle
    let pool: BufferPool
    let programs: ProgramCache
    let profiler: Profiler?
    private var transfers = (uploads: 0, downloads: 0)
    /// Launches, CLBlast calls, blocking calls and bytes moved; `counters` adds the pool's allocations.
    var tally = DeviceCounters()
    /// CLBlast's scratch for padded operands (Gemm+OpenCL.swift), kept between calls.
    var gemmScratchTensor: Tensor?
    /// The convolution column buffer (`columnWorkspace`).
    private var columnScratch: Tensor?
    /// Build conv.cl and window_attention.cl per layer geometry with -D defines (KernelDefines); off, one program
    /// each reads the geometry from its arguments. Both give the same results (tested); on is faster.
    public var specializeKernels = true
    /// Per kernel object: (largest work-group, the size used when the kernel needs none).
    private var workGroupSizes: [cl_kernel: (max: Int, preferred: Int)] = [:]
    /// Launches, flops, bytes and H100 lower bound per kernel family (Roofline.swift).
    var rooflineRows: [String: RooflineRow] = [:]
    /// Padded window slots by geometry (WindowAttention+OpenCL.swift), uploaded once each.
    var paddedSlotLists: [WindowGeometry: Tensor] = [:]
    /// Pinned host memory that `write` copies batches from (AsyncTransfers.swift).
    let pinnedStaging: PinnedStaging
    /// Work-group size of the reduction kernels (the WG define).
    let reductionGroupSize: Int
    /// How `convForward` computes a convolution (`bench ops` measures both on a device).
    public var convAlgorithm = ConvAlgorithm.im2col

    /// - Parameters:
    ///   - index: N of `opencl:N` (see `listOpenCLDevices()`).
    ///   - profiling: collect per-kernel times from OpenCL events (`profile()`).
    ///   - cacheDirectory: where compiled program binaries are kept; nil disables the disk cache.
    ///   - kernelDirectory: read kernels/*.cl from here instead of the embedded copies (default: `SWINLIVER_KERNEL_DIR`).
    public init(index: Int = 0, profiling: Bool = false, cacheDirectory: URL? = OpenCLBackend.defaultCacheDirectory,
                kernelDirectory: URL? = OpenCLBackend.defaultKernelDirectory) throws {
        let devices = try listOpenCLDevices()
        guard devices.indices.contains(index) else {
            throw DeviceError.notFound(requested: "opencl:\(index)", available: ["cpu"] + devices.map(\.description))
        }
        device = devices[index]
        handle = try CLContextHandle(device: device, profiling: profiling)
        pool = BufferPool(context: handle)
        reductionGroupSize = min(128, device.maxWorkGroupSize)
        programs = ProgramCache(handle: handle, options: "-cl-std=CL1.2 -DWG=\(reductionGroupSize)",
                                diskDirectory: cacheDirectory, sourceDirectory: kernelDirectory)
        profiler = profiling ? Profiler() : nil
        pinnedStaging = PinnedStaging(handle: handle)
    }

    deinit {
        clFinish(handle.queue)
    }

    /// `SWINLIVER_KERNEL_DIR`, for editing kernels without rebuilding; nil (the embedded sources) when unset.
    public static var defaultKernelDirectory: URL? {
        ProcessInfo.processInfo.environment["SWINLIVER_KERNEL_DIR"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
    }

    /// `$XDG_CACHE_HOME/swinliver/kernels` or `~/.cache/swinliver/kernels`.
    public static var defaultCacheDirectory: URL? {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? env["HOME"].map { URL(fileURLWithPath: $0).appendingPathComponent(".cache") }
        return base?.appendingPathComponent("swinliver/kernels")
    }

    public var deviceName: String { "opencl:\(device.index) (\(device.name))" }

    public var memory: MemoryStats {
        var m = MemoryStats()
        m.bytesInUse = pool.bytesInUse
        m.peakBytes = pool.peakBytes
        m.uploads = transfers.uploads
        m.downloads = transfers.downloads
        return m
    }

    /// Everything this backend has asked of the device since it was made (`bench train` reports per-step deltas).
    public var counters: DeviceCounters {
        var c = tally
        c.allocations = pool.creations + pinnedStaging.creations
        c.peakBytes = pool.peakBytes
        return c
    }

    public func allocate(_ shape: Shape, name: String) throws -> Tensor {
        let storage = try pool.allocate(floats: shape.count, name: "\(name) \(shape)")
        return Tensor(shape: shape, storage: storage, name: name, owner: ObjectIdentifier(self))
    }

    public var viewAlignment: Int { max(1, device.baseAddressAlignBytes / 4) }

    /// The column slab of one convolution on a GPU: 1/64 of the device's memory within 128 MiB … 1 GiB and half the
    /// largest allocation. An 8 GB GPU keeps 128 MiB, a 24 GB one takes 384 MiB, an 80 GB one 1 GiB: a feature-48
    /// decoder convolution at 96³ then runs in 9 slabs instead of 96 (six launches a slab, forward and backward). The
    /// slab lives only while its convolution runs, so this is the most it adds to a step's peak. A CPU device (PoCL)
    /// keeps 128 MiB: its GEMMs and im2col run faster on slabs nearer its caches (f12/64³: a 344 MiB slab made the
    /// step 10 % slower than 128 MiB and doubled the peak).
    public var convWorkspaceFloats: Int {
        if let columnSlabFloats { return columnSlabFloats }
        guard device.isGPU else { return defaultConvWorkspaceFloats }
        return max(defaultConvWorkspaceFloats, min(device.globalMemoryBytes / 64 / 4, device.maxAllocationBytes / 4 / 2, 1 << 28))
    }

    public func columnWorkspace(_ shape: Shape) throws -> Tensor { try columnWorkspace(shape, held: &columnScratch) }

    /// Overrides `convWorkspaceFloats` (`bench train --column-slab-mib`: what another device's budget gives).
    public var columnSlabFloats: Int?

    public func view(of base: Tensor, offset: Int, shape: Shape, name: String) throws -> Tensor {
        _ = try mem(base, "view")
        try checkView(base, offset, shape, name)
        let storage = try CLStorage(viewOf: base.storage as! CLStorage, offset: offset, count: max(shape.count, 1), name: name)
        return Tensor(shape: shape, storage: storage, name: name, owner: ObjectIdentifier(self))
    }

    public func upload(_ values: [Float], shape: Shape, name: String) throws -> Tensor {
        guard values.count == shape.count else {
            throw ShapeError(op: "upload", "\(name): \(values.count) values for shape \(shape)")
        }
        let t = try allocate(shape, name: name)
        if !values.isEmpty {
            try values.withUnsafeBytes { raw in
                try check(clEnqueueWriteBuffer(handle.queue, try mem(t, "upload"), cl_bool(CL_TRUE), 0, raw.count,
                                               raw.baseAddress, 0, nil, nil), "clEnqueueWriteBuffer", kernel: name)
            }
            tally.blockingCalls += 1
            tally.bytesToDevice += values.count * 4
        }
        transfers.uploads += 1
        return t
    }

    public func download(_ tensor: Tensor) throws -> [Float] {
        var out = [Float](repeating: 0, count: tensor.count)
        if !out.isEmpty {
            let m = try mem(tensor, "download")
            try out.withUnsafeMutableBytes { raw in
                try check(clEnqueueReadBuffer(handle.queue, m, cl_bool(CL_TRUE), 0, raw.count, raw.baseAddress, 0, nil, nil),
                          "clEnqueueReadBuffer", kernel: tensor.name)
            }
            tally.blockingCalls += 1
            tally.bytesFromDevice += out.count * 4
        }
        transfers.downloads += 1
        return out
    }

    public func synchronize() throws {
        try check(clFinish(handle.queue), "clFinish")
        tally.blockingCalls += 1
    }

    /// Per-kernel device times since the last reset, slowest first (needs `profiling: true`).
    public func profile(reset: Bool = false) throws -> [KernelProfile] {
        guard let profiler else { return [] }
        try synchronize()
        try profiler.resolve()
        defer { if reset { profiler.reset() } }
        return profiler.report()
    }

    // MARK: launching

    func mem(_ t: Tensor, _ op: String) throws -> cl_mem {
        guard t.owner == ObjectIdentifier(self), let s = t.storage as? CLStorage else {
            throw DeviceError.foreignTensor(op: op, tensor: t.name)
        }
        return s.mem
    }

    enum Arg {
        case buffer(Tensor), int(Int), float(Float), uint(UInt32)
    }

    /// Sets the arguments and enqueues `name` (from its program built with `defines`) over `global` work-items,
    /// rounded up to the work-group size: `local` where the kernel needs one, else the device's choice.
    /// `finishing`: the launch is the finishing pass of a two-stage reduction reading that many partials (the profile
    /// counts the launches that span fewer than `ReductionSplit.fillWorkItems` work-items and are not such a pass).
    func launch(_ name: KernelName, defines: KernelDefines = .none, global: Int, local: Int? = nil, cost: KernelCost? = nil,
                finishing partials: Int? = nil, _ args: [Arg]) throws {
        guard global > 0 else { return }
        if profiler != nil {
            let buffers = args.reduce(0) { n, a in if case .buffer = a { return n + 1 } else { return n } }
            account(name.program, cost ?? KernelCost(flops: Double(global), bytes: 4 * Double(global * buffers)))
        }
        let kernel = try programs.kernel(name, defines: specializeKernels ? defines : .none)
        for (i, arg) in args.enumerated() {
            let status: cl_int
            switch arg {
            case let .buffer(t):
                var m: cl_mem? = try mem(t, name.rawValue)
                status = clSetKernelArg(kernel, cl_uint(i), MemoryLayout<cl_mem>.size, &m)
            case let .int(v):
                guard let v32 = Int32(exactly: v) else {
                    throw ShapeError(op: name.rawValue, "argument \(i) = \(v) exceeds the 32-bit index range")
                }
                var x = v32
                status = clSetKernelArg(kernel, cl_uint(i), 4, &x)
            case let .float(v):
                var x = v
                status = clSetKernelArg(kernel, cl_uint(i), 4, &x)
            case let .uint(v):
                var x = v
                status = clSetKernelArg(kernel, cl_uint(i), 4, &x)
            }
            try check(status, "clSetKernelArg(\(i))", kernel: name.rawValue)
        }
        let limits = try workGroupLimits(kernel, name)
        if let local, local > limits.max {
            throw OpenCLError(code: -54, call: "clEnqueueNDRangeKernel",
                              kernel: "\(name.rawValue): needs work-groups of \(local), the device allows \(limits.max) for it")
        }
        let group = local ?? limits.preferred
        var globalSize = (global + group - 1) / group * group
        var localSize = group
        var event: cl_event?
        let status = profiler == nil
            ? clEnqueueNDRangeKernel(handle.queue, kernel, 1, nil, &globalSize, &localSize, 0, nil, nil)
            : clEnqueueNDRangeKernel(handle.queue, kernel, 1, nil, &globalSize, &localSize, 0, nil, &event)
        try check(status, "clEnqueueNDRangeKernel", kernel: name.rawValue)
        tally.launches += 1
        if let profiler, let event {
            try record(profiler, name.rawValue, event, global: globalSize, local: localSize,
                       narrow: global < ReductionSplit.fillWorkItems
                           && !(partials.map { $0 <= ReductionSplit.maxFinishingPartials } ?? false),
                       partials: partials)
        }
    }

    /// The kernel's largest work-group on this device and the size used when the kernel does not need one:
    /// 64 rounded up to the preferred multiple (a warp, a wavefront), within the largest.
    private func workGroupLimits(_ kernel: cl_kernel, _ name: KernelName) throws -> (max: Int, preferred: Int) {
        if let known = workGroupSizes[kernel] { return known }
        var maxSize = 0, multiple = 0
        try check(clGetKernelWorkGroupInfo(kernel, device.id, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE),
                                           MemoryLayout<Int>.size, &maxSize, nil), "clGetKernelWorkGroupInfo", kernel: name.rawValue)
        try check(clGetKernelWorkGroupInfo(kernel, device.id,
                                           cl_kernel_work_group_info(CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE),
                                           MemoryLayout<Int>.size, &multiple, nil), "clGetKernelWorkGroupInfo", kernel: name.rawValue)
        let m = max(multiple, 1)
        let limits = (max: max(maxSize, 1), preferred: max(1, min(maxSize, (64 + m - 1) / m * m)))
        workGroupSizes[kernel] = limits
        return limits
    }

    func record(_ profiler: Profiler, _ name: String, _ event: cl_event, global: Int = 0, local: Int = 0,
                narrow: Bool = false, partials: Int? = nil) throws {
        profiler.record(name, event, global: global, local: local, narrow: narrow, partials: partials)
        if profiler.pendingCount > 1 << 16 {   // ~50 steps of events before the profile waits to read them
            try synchronize()
            try profiler.resolve()
        }
    }
}
