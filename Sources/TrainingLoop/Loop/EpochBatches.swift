/// What `EpochLoop` trains on: each epoch's batches in a fixed order, the same whenever epoch `e` is drawn
/// again (a function of the seed and `e`), so a resumed run can skip the batches it consumed before.
public protocol EpochBatches {
    associatedtype Batch
    /// Calls `body` with epoch `epoch`'s batches in order.
    func epoch(_ epoch: Int, _ body: (Batch) throws -> Void) throws
    /// Samples in `batch` (the log's samples/s).
    func samples(in batch: Batch) -> Int
}
