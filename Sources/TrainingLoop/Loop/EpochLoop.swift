import Foundation

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
/// the uninterrupted run's), checkpoints every N steps and at each epoch's end (or only the last epoch's), a step limit, and the
/// log. The caller supplies one step and what happens after each epoch.
public struct EpochLoop {
    public var epochs: Int
    public var stepsPerEpoch: Int
    public var checkpointEvery: Int
    /// Stop after this many steps in total (a short run, a test); the checkpoint is written first.
    public var maxSteps: Int?
    public var schedule: WarmupCosine
    public var samplesPerStep: Int
    /// Checkpoint at the end of every epoch (true) or only of the last (a run whose checkpoints are large and whose
    /// epochs are short, e.g. the classifier in cross-validation: `checkpointEvery` still applies).
    public var checkpointAtEpochEnd = true

    public init(epochs: Int, stepsPerEpoch: Int, checkpointEvery: Int, maxSteps: Int?, schedule: WarmupCosine, samplesPerStep: Int) {
        self.epochs = epochs; self.stepsPerEpoch = stepsPerEpoch; self.checkpointEvery = checkpointEvery
        self.maxSteps = maxSteps; self.schedule = schedule; self.samplesPerStep = samplesPerStep
    }

    public var totalSteps: Int { min(epochs * stepsPerEpoch, maxSteps ?? .max) }

    /// `step(batch, index, lr)` returns the named losses ("loss" first). `checkpoint(position)` writes
    /// and returns the file; `endOfEpoch(epoch, &position)` may validate and update the best score.
    public func run<Batches: EpochBatches>(loader: Batches, position: inout RunPosition, log: RunLog,
                    step: (Batches.Batch, Int, Double) throws -> [(String, Float)],
                    endOfEpoch: (Int, inout RunPosition) throws -> Void,
                    checkpoint: (RunPosition) throws -> URL) throws {
        try run(loader: loader, position: &position, log: log, pipelinedStep: { batch, index, lr in
            [(index, try step(batch, index, lr))]
        }, drain: { [] }, endOfEpoch: endOfEpoch, checkpoint: checkpoint)
    }

    /// The same loop for a step whose losses come back later (`PipelinedTraining`): `pipelinedStep(batch, index, lr)`
    /// enqueues step `index` and returns the steps that finished meanwhile (index from 0, named losses), and `drain`
    /// waits for the rest. Each step is logged when its losses arrive. The loop drains before every checkpoint, epoch
    /// end and stop, so a checkpoint never holds a step whose loss was not seen finite; a `NonFiniteLoss` that names
    /// its step stops the run at that step.
    public func run<Batches: EpochBatches>(loader: Batches, position: inout RunPosition, log: RunLog,
                    pipelinedStep: (Batches.Batch, Int, Double) throws -> [FinishedStep],
                    drain: () throws -> [FinishedStep],
                    endOfEpoch: (Int, inout RunPosition) throws -> Void,
                    checkpoint: (RunPosition) throws -> URL) throws {
        var lastCheckpoint: URL?
        var window = (start: Date(), samples: 0)
        /// Learning rate, epoch and samples of the steps enqueued and not yet logged.
        var queued: [Int: (lr: Double, epoch: Int, samples: Int)] = [:]
        var current = position.step
        func guarded<T>(_ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let e as NonFiniteLoss {
                let step = (e.step ?? current) + 1
                try log.record(["event": "stopped", "step": step, "reason": "\(e)"])
                throw TrainingStopped(step: step, lastCheckpoint: lastCheckpoint, reason: "\(e)")
            }
        }
        func report(_ finished: [FinishedStep]) throws {
            for (index, losses) in finished {
                let info = queued.removeValue(forKey: index) ?? (lr: schedule.rate(at: index), epoch: position.epoch, samples: 0)
                window.samples += info.samples
                let rate = Double(window.samples) / max(Date().timeIntervalSince(window.start), 1e-9)
                var fields: [String: Any] = ["step": index + 1, "epoch": info.epoch + 1, "lr": info.lr, "samples_per_s": rate]
                for (k, v) in losses { fields[k] = Double(v) }
                try log.record(fields)
                log.progress(epoch: info.epoch, epochs: epochs, step: index + 1, steps: totalSteps, loss: losses[0].1,
                             samplesPerSecond: rate)
            }
        }
        func checkpointed(_ position: RunPosition) throws -> URL {
            try report(try guarded(drain))
            return try checkpoint(position)
        }
        do {
            while position.epoch < epochs {
                let epoch = position.epoch
                var index = 0
                try loader.epoch(epoch) { batch in
                    defer { index += 1 }
                    guard index >= position.batchInEpoch else { return }   // consumed before the resume
                    if let maxSteps, position.step >= maxSteps { throw StepLimitReached() }
                    let lr = schedule.rate(at: position.step)
                    current = position.step
                    queued[position.step] = (lr, epoch, loader.samples(in: batch))
                    let finished = try guarded { try pipelinedStep(batch, position.step, lr) }
                    position.step += 1
                    position.batchInEpoch = index + 1
                    try report(finished)
                    if position.step % max(checkpointEvery, 1) == 0 { lastCheckpoint = try checkpointed(position) }
                }
                try report(try guarded(drain))
                position.epoch += 1
                position.batchInEpoch = 0
                try endOfEpoch(epoch, &position)
                if checkpointAtEpochEnd || position.epoch == epochs { lastCheckpoint = try checkpointed(position) }
            }
        } catch is StepLimitReached {
            lastCheckpoint = try checkpointed(position)
            log.say("stopped after \(position.step) steps (--max-steps)")
        }
    }
}

/// A step whose losses have come back: its index (from 0 in the run) and its named losses, "loss" first.
public typealias FinishedStep = (index: Int, losses: [(String, Float)])

/// Thrown inside the loop when `maxSteps` is reached (caught there).
private struct StepLimitReached: Error {}
