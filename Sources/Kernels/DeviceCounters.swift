/// What a backend asked of its device, counted since it was made. `swinliver bench train` prints the
/// difference over the measured steps, per step: a warmed-up GPU step should allocate nothing and block
/// the host at most once.
public struct DeviceCounters: Sendable, Equatable, Codable {
    /// Kernels of kernels/*.cl enqueued.
    public var launches = 0
    /// CLBlast routine calls (each may enqueue a few kernels of its own).
    public var clblastCalls = 0
    /// Device buffers created (the buffer pool reuses released ones without creating).
    public var allocations = 0
    /// Calls that wait for the device: blocking reads and writes, clFinish.
    public var blockingCalls = 0
    public var bytesToDevice = 0
    public var bytesFromDevice = 0
    /// Most device bytes held by tensors at once (not a difference: the high-water mark so far).
    public var peakBytes = 0

    public init() {}

    /// self − earlier, field by field (the peak is kept as is).
    public func since(_ earlier: DeviceCounters) -> DeviceCounters {
        var d = self
        d.launches -= earlier.launches
        d.clblastCalls -= earlier.clblastCalls
        d.allocations -= earlier.allocations
        d.blockingCalls -= earlier.blockingCalls
        d.bytesToDevice -= earlier.bytesToDevice
        d.bytesFromDevice -= earlier.bytesFromDevice
        return d
    }
}
