import Foundation
import Volumes

/// A training run stopped on purpose: a non-finite loss, with where to continue from.
public struct TrainingStopped: Error, CustomStringConvertible {
    public let step: Int
    public let lastCheckpoint: URL?
    public let reason: String
    public var description: String {
        "training stopped at step \(step): \(reason); last good checkpoint: \(lastCheckpoint?.path ?? "none written yet")"
    }
}

/// The loop both trainers share: epochs of loader batches, the learning-rate schedule, resuming in the
/// middle of an epoch (the batches already consumed are drawn again and skipped, so the data order is
/// the uninterrupted run's), checkpoints every N steps and at each epoch's end, a step limit, and the
/// log. The caller supplies one step and what happens after each epoch.
public struct EpochLoop {
    public var epochs: Int
    public var stepsPerEpoch: Int
    public var checkpointEvery: Int
    /// Stop after this many steps in total (a short run, a test); the checkpoint is written first.
    public var maxSteps: Int?
    public var schedule: WarmupCosine
    public var samplesPerStep: Int

    public init(epochs: Int, stepsPerEpoch: Int, checkpointEvery: Int, maxSteps: Int?, schedule: WarmupCosine, samplesPerStep: Int) {
        self.epochs = epochs; self.stepsPerEpoch = stepsPerEpoch; self.checkpointEvery = checkpointEvery
        self.maxSteps = maxSteps; self.schedule = schedule; self.samplesPerStep = samplesPerStep
    }

    public var totalSteps: Int { min(epochs * stepsPerEpoch, maxSteps ?? .max) }

    /// `step(batch, index, lr)` returns the named losses ("loss" first). `checkpoint(position)` writes
    /// and returns the file; `endOfEpoch(epoch, &position)` may validate and update the best score.
    public func run(loader: PatchLoader, position: inout RunPosition, log: RunLog,
                    step: (HostBatch, Int, Double) throws -> [(String, Float)],
                    endOfEpoch: (Int, inout RunPosition) throws -> Void,
                    checkpoint: (RunPosition) throws -> URL) throws {
        var lastCheckpoint: URL?
        var window = (start: Date(), samples: 0)
        struct Done: Error {}
        do {
            while position.epoch < epochs {
                let epoch = position.epoch
                var index = 0
                try loader.epoch(epoch) { batch in
                    defer { index += 1 }
                    guard index >= position.batchInEpoch else { return }   // consumed before the resume
                    if let maxSteps, position.step >= maxSteps { throw Done() }
                    let lr = schedule.rate(at: position.step)
                    let losses: [(String, Float)]
                    do {
                        losses = try step(batch, position.step, lr)
                    } catch let e as NonFiniteLoss {
                        try log.record(["event": "stopped", "step": position.step + 1, "reason": "\(e)"])
                        throw TrainingStopped(step: position.step + 1, lastCheckpoint: lastCheckpoint, reason: "\(e)")
                    }
                    position.step += 1
                    position.batchInEpoch = index + 1
                    window.samples += batch.count
                    let rate = Double(window.samples) / max(Date().timeIntervalSince(window.start), 1e-9)
                    var fields: [String: Any] = ["step": position.step, "epoch": epoch + 1, "lr": lr,
                                                 "samples_per_s": rate]
                    for (k, v) in losses { fields[k] = Double(v) }
                    try log.record(fields)
                    log.progress(epoch: epoch, epochs: epochs, step: position.step, steps: totalSteps,
                                 loss: losses[0].1, samplesPerSecond: rate)
                    if position.step % max(checkpointEvery, 1) == 0 { lastCheckpoint = try checkpoint(position) }
                }
                position.epoch += 1
                position.batchInEpoch = 0
                try endOfEpoch(epoch, &position)
                lastCheckpoint = try checkpoint(position)
            }
        } catch is Done {
            lastCheckpoint = try checkpoint(position)
            log.say("stopped after \(position.step) steps (--max-steps)")
        }
    }
}
