import COpenCL

/// An OpenCL buffer behind a tensor; returns itself to the pool when the tensor is gone.
final class CLStorage: DeviceStorage {
    let mem: cl_mem
    let capacity: Int
    /// The pool it returns to, or (a sub-buffer view) the storage it lies in, kept alive while the view is.
    private let owner: Owner

    enum Owner { case pool(BufferPool, bucketBytes: Int), base(CLStorage) }

    init(mem: cl_mem, capacity: Int, bucketBytes: Int, pool: BufferPool) {
        self.mem = mem
        self.capacity = capacity
        owner = .pool(pool, bucketBytes: bucketBytes)
    }

    /// A sub-buffer of `count` floats of `base` from float `offset` (aligned by the caller).
    init(viewOf base: CLStorage, offset: Int, count: Int, name: String) throws {
        var region = cl_buffer_region(origin: offset * 4, size: count * 4)
        var err: cl_int = 0
        let sub = withUnsafeMutablePointer(to: &region) {
            clCreateSubBuffer(base.mem, cl_mem_flags(CL_MEM_READ_WRITE), cl_buffer_create_type(CL_BUFFER_CREATE_TYPE_REGION),
                              $0, &err)
        }
        guard let sub, err == CL_SUCCESS else { throw OpenCLError(code: err, call: "clCreateSubBuffer", kernel: name) }
        mem = sub
        capacity = count
        owner = .base(base)
    }

    deinit {
        switch owner {
        case let .pool(pool, bucketBytes): pool.release(mem, bucketBytes: bucketBytes)
        case .base: clReleaseMemObject(mem)
        }
    }
}

/// Size-bucketed reuse of device buffers (so a training step does not allocate), with
/// out-of-memory reported as `DeviceError.outOfMemory` naming the tensor.
final class BufferPool {
    let context: CLContextHandle
    private var free: [Int: [cl_mem]] = [:]
    private(set) var bytesInUse = 0
    private(set) var peakBytes = 0
    private(set) var cachedBytes = 0
    /// clCreateBuffer calls so far (a warmed-up training step should add none).
    private(set) var creations = 0

    init(context: CLContextHandle) { self.context = context }

    deinit { drain() }

    /// Rounds a size up so near-equal requests share buckets (at most 1/8 waste).
    static func bucket(_ bytes: Int) -> Int {
        let b = max(bytes, 256)
        let step = max(256, (1 << (Int.bitWidth - 1 - b.leadingZeroBitCount)) / 8)
        return (b + step - 1) / step * step
    }

    func allocate(floats: Int, name: String) throws -> CLStorage {
        let bytes = Self.bucket(floats * 4)
        let device = context.device
        if var list = free[bytes], let mem = list.popLast() {
            free[bytes] = list
            cachedBytes -= bytes
            return hold(mem, floats, bytes)
        }
        func oom() -> DeviceError {
            .outOfMemory(tensor: name, needed: bytes, inUse: bytesInUse, device: device.name)
        }
        guard bytes <= device.maxAllocationBytes else { throw oom() }
        if bytesInUse + cachedBytes + bytes > device.globalMemoryBytes { drain() }
        guard bytesInUse + bytes <= device.globalMemoryBytes else { throw oom() }
        var err: cl_int = 0
        var mem = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &err)
        if mem == nil || err != CL_SUCCESS {
            drain()
            mem = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &err)
        }
        creations += 1
        guard let mem, err == CL_SUCCESS else {
            if [-4, -5, -6, -61].contains(err) { throw oom() }
            throw OpenCLError(code: err, call: "clCreateBuffer", kernel: nil)
        }
        return hold(mem, floats, bytes)
    }

    private func hold(_ mem: cl_mem, _ floats: Int, _ bytes: Int) -> CLStorage {
        bytesInUse += bytes
        peakBytes = max(peakBytes, bytesInUse)
        return CLStorage(mem: mem, capacity: floats, bucketBytes: bytes, pool: self)
    }

    func release(_ mem: cl_mem, bucketBytes: Int) {
        bytesInUse -= bucketBytes
        cachedBytes += bucketBytes
        free[bucketBytes, default: []].append(mem)
    }

    /// Frees every cached (unused) buffer.
    func drain() {
        for list in free.values { for m in list { clReleaseMemObject(m) } }
        free.removeAll()
        cachedBytes = 0
    }
}

/// Owns the context and its two queues; released last (storages → pool → this).
final class CLContextHandle {
    let context: cl_context
    let queue: cl_command_queue
    /// Host-to-device copies of training batches (AsyncTransfers.swift), so they overlap the kernels on `queue`.
    let uploadQueue: cl_command_queue
    let device: CLDeviceInfo

    init(device: CLDeviceInfo, profiling: Bool) throws {
        self.device = device
        var err: cl_int = 0
        var id: cl_device_id? = device.id
        guard let ctx = clCreateContext(nil, 1, &id, nil, nil, &err) else {
            throw OpenCLError(code: err, call: "clCreateContext", kernel: nil)
        }
        let props: cl_command_queue_properties = profiling ? cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE) : 0
        guard let q = clCreateCommandQueue(ctx, device.id, props, &err) else {
            clReleaseContext(ctx)
            throw OpenCLError(code: err, call: "clCreateCommandQueue", kernel: nil)
        }
        guard let u = clCreateCommandQueue(ctx, device.id, 0, &err) else {
            clReleaseCommandQueue(q)
            clReleaseContext(ctx)
            throw OpenCLError(code: err, call: "clCreateCommandQueue (upload queue)", kernel: nil)
        }
        context = ctx
        queue = q
        uploadQueue = u
    }

    deinit {
        clFinish(queue)
        clFinish(uploadQueue)
        // CLBlast caches compiled programs per context for the life of the process; drop them while this context
        // still exists (its exit-time cache teardown would otherwise release programs of a freed context, which
        // corrupts the heap on Oclgrind). Other live contexts recompile what they need.
        CLBlastClearCache()
        clReleaseCommandQueue(queue)
        clReleaseCommandQueue(uploadQueue)
        clReleaseContext(context)
    }
}
