import Foundation
import Train
import TrainingLoop
import Volumes
import XCTest

/// The shared training loop: a non-finite loss stops the run naming the step and the last good
/// checkpoint; --max-steps writes a checkpoint and stops; a resumed position skips consumed batches.
final class EpochLoopTests: XCTestCase {
    func loader(_ dir: URL) throws -> PatchLoader {
        try SyntheticCohort.write(cases: 2, to: dir, seed: 1, generator: SyntheticCT(inPlaneVoxels: (40, 32)))
        return try PatchLoader(cases: try Dataset.cases(at: dir), preprocessing: Preprocessing(spacing: [8, 8, 8]),
                               sampler: PatchSampler(roi: [32, 32, 32], samples: 2), augmentation: .none, batchSize: 1, seed: 3)
    }

    func testNonFiniteLossStopsWithTheLastCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-loop-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try loader(dir.appendingPathComponent("data"))
        let log = try RunLog(url: dir.appendingPathComponent("log.jsonl"), quiet: true)
        let loop = EpochLoop(epochs: 2, stepsPerEpoch: 4, checkpointEvery: 2, maxSteps: nil,
                             schedule: WarmupCosine(peak: 1, warmup: 0, total: 8), samplesPerStep: 1)
        var position = RunPosition()
        var checkpoints: [Int] = []
        XCTAssertThrowsError(try loop.run(loader: l, position: &position, log: log, step: { _, i, _ in
            if i == 4 { throw NonFiniteLoss(values: ["loss": .nan], inputFinite: true) }
            return [("loss", Float(i))]
        }, endOfEpoch: { _, _ in }, checkpoint: { p in
            checkpoints.append(p.step)
            return dir.appendingPathComponent("ckpt-\(p.step)")
        })) { e in
            guard let s = e as? TrainingStopped else { return XCTFail("\(e)") }
            XCTAssertEqual(s.step, 5)
            XCTAssertEqual(s.lastCheckpoint?.lastPathComponent, "ckpt-4")
            XCTAssertTrue("\(s)".contains("learning rate"), "\(s)")
        }
        XCTAssertEqual(checkpoints, [2, 4, 4])   // every 2 steps, and at the end of epoch 1
        XCTAssertEqual(position.step, 4)
        let lines = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines.last!.contains("\"event\":\"stopped\""), "\(lines.last!)")
    }

    /// Without epoch-end checkpoints the loop writes one every N steps and one when the last epoch ends.
    func testEpochEndCheckpointsCanBeLeftToTheLastEpoch() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-loop-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try loader(dir.appendingPathComponent("data"))
        var loop = EpochLoop(epochs: 3, stepsPerEpoch: 4, checkpointEvery: 5, maxSteps: nil,
                             schedule: WarmupCosine(peak: 1, warmup: 0, total: 12), samplesPerStep: 1)
        func checkpoints() throws -> [Int] {
            var position = RunPosition(), written: [Int] = []
            try loop.run(loader: l, position: &position, log: try RunLog(url: dir.appendingPathComponent("log.jsonl"), quiet: true),
                         step: { _, i, _ in [("loss", Float(i))] }, endOfEpoch: { _, _ in },
                         checkpoint: { p in written.append(p.step); return dir })
            return written
        }
        XCTAssertEqual(try checkpoints(), [4, 5, 8, 10, 12])
        loop.checkpointAtEpochEnd = false
        XCTAssertEqual(try checkpoints(), [5, 10, 12])
    }

    /// A step whose losses come back one call late (as `PipelinedTraining`'s do) is logged as the synchronous step
    /// is: the same records in the same order, drained before each checkpoint, and a NaN found one call late stops
    /// the run at the step it belonged to, with the checkpoint from before it.
    func testLateLossesAreLoggedAsTheirStepsAndStopAtTheirStep() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-loop-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try loader(dir.appendingPathComponent("data"))
        let loop = EpochLoop(epochs: 2, stepsPerEpoch: 4, checkpointEvery: 3, maxSteps: nil,
                             schedule: WarmupCosine(peak: 1, warmup: 2, total: 8), samplesPerStep: 1)
        func records(_ name: String) throws -> [String] {
            try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map {
                $0.replacingOccurrences(of: #""samples_per_s":[0-9.e+-]+"#, with: "", options: .regularExpression)
            }
        }
        let loss = { (i: Int, lr: Double) in [("loss", Float(i) * 0.5), ("dice", Float(lr))] }
        var position = RunPosition(), checkpoints: [Int] = []
        try loop.run(loader: l, position: &position, log: try RunLog(url: dir.appendingPathComponent("sync.jsonl"), quiet: true),
                     step: { _, i, lr in loss(i, lr) }, endOfEpoch: { _, _ in }, checkpoint: { p in checkpoints.append(p.step); return dir })
        var late = RunPosition(), lateCheckpoints: [Int] = [], pending: FinishedStep?
        var pendingAtCheckpoint: [Bool] = []
        try loop.run(loader: l, position: &late, log: try RunLog(url: dir.appendingPathComponent("late.jsonl"), quiet: true),
                     pipelinedStep: { _, i, lr in
                         defer { pending = (i, loss(i, lr)) }
                         return pending.map { [$0] } ?? []
                     }, drain: {
                         defer { pending = nil }
                         return pending.map { [$0] } ?? []
                     }, endOfEpoch: { _, _ in }, checkpoint: { p in
                         lateCheckpoints.append(p.step)
                         pendingAtCheckpoint.append(pending != nil)
                         return dir
                     })
        XCTAssertEqual(late.step, 8)
        XCTAssertEqual(lateCheckpoints, checkpoints)
        XCTAssertEqual(pendingAtCheckpoint, checkpoints.map { _ in false }, "every checkpoint comes after a drain")
        XCTAssertEqual(try records("late.jsonl"), try records("sync.jsonl"))
        XCTAssertEqual(try records("sync.jsonl").count, 8)

        var stopAt = RunPosition(), stopCheckpoints: [Int] = []
        pending = nil
        var nanPending: Int?
        XCTAssertThrowsError(try loop.run(loader: l, position: &stopAt, log: try RunLog(url: dir.appendingPathComponent("nan.jsonl"), quiet: true),
                                          pipelinedStep: { _, i, _ in
                                              defer { nanPending = i }
                                              if nanPending == 4 { throw NonFiniteLoss(values: ["loss": .nan], inputFinite: true, step: 4) }
                                              return nanPending.map { [($0, [("loss", 1)])] } ?? []
                                          }, drain: {
                                              defer { nanPending = nil }
                                              return nanPending.map { [($0, [("loss", 1)])] } ?? []
                                          }, endOfEpoch: { _, _ in }, checkpoint: { p in
                                              stopCheckpoints.append(p.step)
                                              return dir.appendingPathComponent("ckpt-\(p.step)")
                                          })) { e in
            guard let s = e as? TrainingStopped else { return XCTFail("\(e)") }
            XCTAssertEqual(s.step, 5, "the step whose loss was NaN, though the host saw it a step later")
            XCTAssertEqual(s.lastCheckpoint?.lastPathComponent, "ckpt-4")
        }
        XCTAssertEqual(stopCheckpoints, [3, 4])
    }

    func testResumeSkipsConsumedBatchesAndMaxStepsStops() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-loop-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try loader(dir.appendingPathComponent("data"))
        let log = try RunLog(url: dir.appendingPathComponent("log.jsonl"), quiet: true)
        func run(from start: RunPosition, maxSteps: Int?) throws -> (RunPosition, [Float]) {
            let loop = EpochLoop(epochs: 2, stepsPerEpoch: 4, checkpointEvery: 100, maxSteps: maxSteps,
                                 schedule: WarmupCosine(peak: 1, warmup: 0, total: 8), samplesPerStep: 1)
            var p = start, seen: [Float] = []
            try loop.run(loader: l, position: &p, log: log, step: { batch, _, _ in
                seen.append(batch.images.reduce(0, +))
                return [("loss", 0)]
            }, endOfEpoch: { _, _ in }, checkpoint: { _ in dir })
            return (p, seen)
        }
        let (end, all) = try run(from: RunPosition(), maxSteps: nil)
        XCTAssertEqual(end.step, 8)
        XCTAssertEqual(all.count, 8)
        let (middle, first) = try run(from: RunPosition(), maxSteps: 3)
        XCTAssertEqual(middle.step, 3)
        XCTAssertEqual(middle.batchInEpoch, 3)
        let (_, rest) = try run(from: middle, maxSteps: nil)
        XCTAssertEqual(first + rest, all, "the resumed run must see the uninterrupted run's batches")
    }
}
