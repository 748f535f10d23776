import COpenCL

/// Transfers that do not wait for the device: a batch written while the previous step still runs, a loss read
/// back while the next step is queued. Each keeps its host memory until the device is done with it.
extension OpenCLBackend {
    public func write(_ values: [Float], into tensor: Tensor) throws {
        guard values.count == tensor.count else {
            throw ShapeError(op: "write", "\(tensor.name): \(values.count) values for shape \(tensor.shape)")
        }
        guard !values.isEmpty else { return }
        let m = try mem(tensor, "write")
        releaseFinishedWrites()
        let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
        _ = copy.initialize(from: values)
        var event: cl_event?
        let status = clEnqueueWriteBuffer(handle.queue, m, cl_bool(CL_FALSE), 0, values.count * 4, copy.baseAddress,
                                          0, nil, &event)
        guard status == CL_SUCCESS, let event else {
            copy.deallocate()
            try check(status, "clEnqueueWriteBuffer", kernel: tensor.name)
            return
        }
        inFlightWrites.append(InFlightWrite(event: event, values: copy))
        tally.bytesToDevice += values.count * 4
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

    /// Frees the host copies of writes the device has finished (all of them after a clFinish).
    func releaseFinishedWrites(all: Bool = false) {
        inFlightWrites.removeAll { w in
            var status: cl_int = 0
            let ok = clGetEventInfo(w.event, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS), 4, &status, nil)
            guard all || (ok == CL_SUCCESS && status <= CL_COMPLETE) else { return false }
            clReleaseEvent(w.event)
            w.values.deallocate()
            return true
        }
    }
}

/// A host copy being written to the device, and the event that says when it was read.
struct InFlightWrite {
    let event: cl_event
    let values: UnsafeMutableBufferPointer<Float>
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
