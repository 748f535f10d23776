import COpenCL

/// Transfers that do not wait for the device: a batch copied from pinned host memory on the upload queue while
/// earlier steps still run, a loss read back while the next step is queued.
extension OpenCLBackend {
    public func fence() throws -> DeviceFence {
        var event: cl_event?
        try check(clEnqueueMarkerWithWaitList(handle.queue, 0, nil, &event), "clEnqueueMarkerWithWaitList")
        try check(clFlush(handle.queue), "clFlush")   // the upload queue may wait for it: it must reach the device
        return DeviceFence(marker: event.map(CLEvent.init))
    }

    /// Stages the values in pinned memory, copies them on the upload queue once `after` has passed, and makes the
    /// compute queue wait for that copy (a barrier), so kernels enqueued before this call overlap it.
    public func write(_ values: [Float], into tensor: Tensor, after: DeviceFence) throws {
        guard values.count == tensor.count else {
            throw ShapeError(op: "write", "\(tensor.name): \(values.count) values for shape \(tensor.shape)")
        }
        guard !values.isEmpty else { return }
        let m = try mem(tensor, "write"), bytes = values.count * 4
        let (staging, waited) = try pinnedStaging.buffer(for: m, bytes: bytes, name: tensor.name)
        if waited { tally.blockingCalls += 1 }
        values.withUnsafeBytes { staging.host.copyMemory(from: $0.baseAddress!, byteCount: bytes) }
        var copied: cl_event?
        var start: cl_event? = (after.marker as? CLEvent)?.event
        let status = start == nil
            ? clEnqueueWriteBuffer(handle.uploadQueue, m, cl_bool(CL_FALSE), 0, bytes, staging.host, 0, nil, &copied)
            : clEnqueueWriteBuffer(handle.uploadQueue, m, cl_bool(CL_FALSE), 0, bytes, staging.host, 1, &start, &copied)
        try check(status, "clEnqueueWriteBuffer (upload queue)", kernel: tensor.name)
        guard let copied else { throw OpenCLError(code: CL_INVALID_EVENT, call: "clEnqueueWriteBuffer (upload queue)", kernel: tensor.name) }
        staging.lastCopy = CLEvent(copied)
        try check(clFlush(handle.uploadQueue), "clFlush (upload queue)", kernel: tensor.name)
        var list: cl_event? = copied
        try check(clEnqueueBarrierWithWaitList(handle.queue, 1, &list, nil), "clEnqueueBarrierWithWaitList", kernel: tensor.name)
        tally.bytesToDevice += bytes
    }

    public func beginDownload(_ tensor: Tensor) throws -> PendingDownload {
        guard tensor.count > 0 else { return PendingDownload { [] } }
        let read = try PendingRead(queue: handle.queue, mem: try mem(tensor, "download"), count: tensor.count, name: tensor.name)
        tally.bytesFromDevice += tensor.count * 4
        return PendingDownload { [weak self] in
            self?.tally.blockingCalls += 1
            return try read.wait()
        }
    }
}

/// A non-blocking read into host memory this object owns; waits (and frees) when dropped unwaited.
final class PendingRead {
    private let buffer: UnsafeMutableBufferPointer<Float>
    private var event: cl_event?
    private let name: String

    init(queue: cl_command_queue, mem: cl_mem, count: Int, name: String) throws {
        self.name = name
        buffer = .allocate(capacity: count)
        var ev: cl_event?
        let status = clEnqueueReadBuffer(queue, mem, cl_bool(CL_FALSE), 0, count * 4, buffer.baseAddress, 0, nil, &ev)
        guard status == CL_SUCCESS else {
            buffer.deallocate()
            throw OpenCLError(code: status, call: "clEnqueueReadBuffer", kernel: name)
        }
        event = ev
    }

    private var failure: Error?

    func wait() throws -> [Float] {
        if let e = event {
            var waitList: cl_event? = e
            let status = clWaitForEvents(1, &waitList)
            clReleaseEvent(e)
            event = nil
            do { try check(status, "clWaitForEvents", kernel: name) } catch { failure = error }
        }
        if let failure { throw failure }
        return Array(buffer)
    }

    deinit {
        if let e = event {
            var waitList: cl_event? = e
            clWaitForEvents(1, &waitList)
            clReleaseEvent(e)
        }
        buffer.deallocate()
    }
}
