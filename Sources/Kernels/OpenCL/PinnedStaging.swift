import COpenCL

/// Pinned host memory that batches are copied to the device from: CL_MEM_ALLOC_HOST_PTR buffers, mapped once for the
/// backend's life (the pattern drivers DMA from directly). One per destination buffer, reused once its previous copy
/// has finished, so a loop that rewrites the same batch buffers creates them only in its first steps.
final class PinnedStaging {
    final class Buffer {
        let mem: cl_mem
        let host: UnsafeMutableRawPointer
        let bytes: Int
        /// The upload-queue copy that last read `host`.
        var lastCopy: CLEvent?
        init(mem: cl_mem, host: UnsafeMutableRawPointer, bytes: Int) { self.mem = mem; self.host = host; self.bytes = bytes }
    }

    private let handle: CLContextHandle
    private var byDestination: [cl_mem: Buffer] = [:]
    /// Pinned buffers created so far (counted with the device allocations).
    private(set) var creations = 0
    /// Destinations beyond which finished entries are released (a loop writes two or four batch buffers).
    private let kept = 16

    init(handle: CLContextHandle) { self.handle = handle }

    deinit {
        for b in byDestination.values { release(b) }
    }

    /// A staging buffer of at least `bytes` for copies into `destination`, free to overwrite; `waited` says the
    /// previous copy from it had to be waited for (a blocking call).
    func buffer(for destination: cl_mem, bytes: Int, name: String) throws -> (buffer: Buffer, waited: Bool) {
        if let b = byDestination[destination], b.bytes >= bytes {
            guard let copy = b.lastCopy, !copy.isComplete else { return (b, false) }
            try copy.wait(name)
            return (b, true)
        }
        if let old = byDestination.removeValue(forKey: destination) { release(old) }
        if byDestination.count >= kept {
            for (key, b) in byDestination where b.lastCopy?.isComplete ?? true {
                byDestination[key] = nil
                release(b)
            }
        }
        let b = try create(bytes: bytes, name: name)
        byDestination[destination] = b
        return (b, false)
    }

    private func create(bytes: Int, name: String) throws -> Buffer {
        var err: cl_int = 0
        let flags = cl_mem_flags(CL_MEM_READ_ONLY) | cl_mem_flags(CL_MEM_ALLOC_HOST_PTR)
        guard let mem = clCreateBuffer(handle.context, flags, bytes, nil, &err), err == CL_SUCCESS else {
            if [-4, -5, -6, -61].contains(err) {
                throw DeviceError.outOfMemory(tensor: "\(name) (pinned staging)", needed: bytes, inUse: 0, device: handle.device.name)
            }
            throw OpenCLError(code: err, call: "clCreateBuffer (pinned staging)", kernel: name)
        }
        let host = clEnqueueMapBuffer(handle.uploadQueue, mem, cl_bool(CL_TRUE), cl_map_flags(CL_MAP_WRITE), 0, bytes, 0, nil,
                                      nil, &err)
        guard let host, err == CL_SUCCESS else {
            clReleaseMemObject(mem)
            throw OpenCLError(code: err, call: "clEnqueueMapBuffer (pinned staging)", kernel: name)
        }
        creations += 1
        return Buffer(mem: mem, host: host, bytes: bytes)
    }

    private func release(_ b: Buffer) {
        try? b.lastCopy?.wait("pinned staging")
        clEnqueueUnmapMemObject(handle.uploadQueue, b.mem, b.host, 0, nil, nil)
        clFinish(handle.uploadQueue)
        clReleaseMemObject(b.mem)
    }
}

/// An OpenCL event, released with this object.
final class CLEvent {
    let event: cl_event
    init(_ event: cl_event) { self.event = event }
    deinit { clReleaseEvent(event) }

    /// Finished (or failed: a failed copy is reported by the wait).
    var isComplete: Bool {
        var status: cl_int = 0
        let ok = clGetEventInfo(event, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS), 4, &status, nil)
        return ok == CL_SUCCESS && status <= CL_COMPLETE
    }

    func wait(_ name: String) throws {
        var list: cl_event? = event
        try check(clWaitForEvents(1, &list), "clWaitForEvents", kernel: name)
    }
}
