import Foundation
import Train
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
