import TrainingLoop
import Volumes

/// Sub-volume batches feed the shared epoch loop (pretraining and fine-tuning).
extension PatchLoader: EpochBatches {
    public func samples(in batch: HostBatch) -> Int { batch.count }
}
