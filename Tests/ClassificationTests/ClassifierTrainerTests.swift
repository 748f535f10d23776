import Classification
import Foundation
import Kernels
import SafeTensors
import SeededRandom
import TestSupport
import TrainingLoop
import XCTest

/// Folds, oversampling, and the classifier's training in the shared loop (loss falls, SWA with BatchNorm update,
/// exact resume, NaN stop).
final class ClassifierTrainerTests: XCTestCase {
    func testStratifiedFoldsKeepPatientsApartAndBalanceClasses() throws {
        let labels = (0..<63).map { $0 % 3 == 0 ? 0 : ($0 % 3 == 1 ? 1 : 2) } + [0, 0, 0, 0, 0, 0]
        let fold = try SliceSet.stratifiedFolds(labels: labels, folds: 5, seed: 3)
        XCTAssertEqual(fold.count, labels.count, "one fold per patient")
        for k in 0..<5 {
            let members = labels.indices.filter { fold[$0] == k }
            XCTAssertTrue((13...15).contains(members.count), "fold \(k): \(members.count)")
            for c in 0..<3 {
                let n = members.filter { labels[$0] == c }.count, total = labels.filter { $0 == c }.count
                XCTAssertLessThanOrEqual(abs(Double(n) - Double(total) / 5), 1, "fold \(k) class \(c)")
            }
        }
        XCTAssertEqual(try SliceSet.stratifiedFolds(labels: labels, folds: 5, seed: 3), fold, "seeded")
        XCTAssertThrowsError(try SliceSet.stratifiedFolds(labels: [0, 1], folds: 5, seed: 0))
    }

    func patients(_ n: Int, size: Int) -> [PatientSlices] {
        var rng = SplitMix64(seed: 8)
        return (0..<n).map { p in
            let label = p % 3
            let images = (0..<3).map { _ in
                (0..<(size * size)).map { i in Float(label) * 0.3 * Float((i / size + i % size) % 7) / 7 + Float(rng.uniform(0, 0.05)) }
            }
            return PatientSlices(patient: "p\(p)", label: label, images: images, size: size)
        }
    }

    func testOversamplingBalancesClasses() {
        var ps = patients(4, size: 8)          // classes 0, 1, 2, 0: class 0 has 6 slices, the others 3
        ps[3].label = 0
        let batches = SliceBatches(patients: ps, batchSize: 4, seed: 1)
        let epoch = batches.order(epoch: 0)
        let counts = (0..<3).map { c in epoch.filter { ps[$0.patient].label == c }.count }
        XCTAssertEqual(counts, [6, 6, 6])
        XCTAssertEqual(batches.slicesPerEpoch, 18)
        XCTAssertEqual(batches.stepsPerEpoch, 5)
        var sizes: [Int] = []
        try? batches.epoch(0) { sizes.append(batches.samples(in: $0)) }
        XCTAssertEqual(sizes, [4, 4, 4, 4, 2], "every slice of the epoch once, the last batch smaller")
        let seven = SliceBatches(patients: patients(3, size: 8), batchSize: 4, seed: 1)   // 9 slices: 4 + 5, never a batch of 1
        sizes = []
        try? seven.epoch(0) { sizes.append(seven.samples(in: $0)) }
        XCTAssertEqual(sizes, [4, 5])
        XCTAssertEqual(seven.stepsPerEpoch, 2)
        XCTAssertNotEqual(batches.order(epoch: 1).map(\.slice), epoch.map(\.slice), "each epoch its own order")
    }

    /// The losses a run logged, by step.
    func loggedLosses(_ dir: URL) throws -> [Int: Double] {
        let text = try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8)
        var out: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if let s = o["step"] as? Int, let l = o["loss"] as? Double { out[s] = l }
        }
        return out
    }

    func testLossFallsAndSWAUpdatesBatchNorm() throws {
        let data = patients(3, size: 75)
        var o = ClassifierOptions()
        o.epochs = 6; o.batchSize = 9; o.lr = 1e-3; o.warmupFraction = 0; o.swaStart = 0.5; o.labelSmoothing = 0.1
        let dir = try temporaryFolder("classifier")
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try ClassifierTrainer(options: o, directory: dir, backend: CPUBackend(), quiet: true)
        t.slicing = SliceSettings(window: .none, marginMM: 7.5)
        try t.train(data, resume: false)
        XCTAssertEqual(try ClassifierWeights.slicing(t.weightsURL), t.slicing, "the weights record how their slices were cut")
        let losses = try loggedLosses(dir).sorted { $0.key < $1.key }.map(\.value)
        XCTAssertEqual(losses.count, 6)
        XCTAssertLessThan(losses.suffix(2).reduce(0, +), losses.prefix(2).reduce(0, +), "\(losses)")
        let means = try t.backend.download(t.model.batchNorms[0].runningMean.value)
        XCTAssertTrue(means.contains { $0 != 0 }, "BatchNorm statistics recomputed after SWA")
        XCTAssertEqual(t.model.batchNorms[0].momentum, 0.1, "momentum restored after update_bn")
        let p = try t.predict(data[0])
        XCTAssertEqual(p.count, 3)
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5)
    }

    /// A run stopped after 3 steps and resumed from its checkpoint logs the uninterrupted run's losses and ends with
    /// the same weights (the weight average of the last epochs included).
    func testResumedRunMatchesTheUninterruptedOne() throws {
        let data = patients(3, size: 75)
        var o = ClassifierOptions()
        o.epochs = 3; o.batchSize = 4; o.lr = 1e-3; o.swaStart = 0.5; o.checkpointEvery = 1
        let root = try temporaryFolder("classifier-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = root.appendingPathComponent("straight"), split = root.appendingPathComponent("split")
        try ClassifierTrainer(options: o, directory: straight, backend: CPUBackend(), quiet: true).train(data, resume: false)
        var first = o
        first.maxSteps = 4   // into the second epoch: after the first average was taken
        try ClassifierTrainer(options: first, directory: split, backend: CPUBackend(), quiet: true).train(data, resume: false)
        XCTAssertEqual(try loggedLosses(split).count, 4)
        // The checkpoint holds the options; continue the same run without the step limit.
        let checkpoint = split.appendingPathComponent("checkpoint.safetensors")
        let file = try SafeTensorsFile(contentsOf: checkpoint)
        XCTAssertTrue(file.keys.contains { $0.hasPrefix("extra.swa.") }, "the weight average is in the checkpoint")
        var w = SafeTensorsWriter()
        w.metadata = file.metadata
        w.metadata["options"] = try o.json()
        for k in file.keys.sorted() {
            let info = try file.info(k)
            try w.addRaw(k, dtype: info.dtype, shape: info.shape, bytes: try file.bytes(k))
        }
        try w.write(to: checkpoint)
        try ClassifierTrainer(options: o, directory: split, backend: CPUBackend(), quiet: true).train(data, resume: true)
        XCTAssertEqual(try loggedLosses(split), try loggedLosses(straight))
        let a = try SafeTensorsFile(contentsOf: straight.appendingPathComponent("classifier.safetensors"))
        let b = try SafeTensorsFile(contentsOf: split.appendingPathComponent("classifier.safetensors"))
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for k in a.keys { XCTAssertEqual(try a.floats(k), try b.floats(k), k) }
    }

    func testNonFiniteLossStopsNamingTheStep() throws {
        var data = patients(3, size: 75)
        data[1].images[0][5] = .nan
        var o = ClassifierOptions()
        o.epochs = 1; o.batchSize = 9
        let dir = try temporaryFolder("classifier-nan")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try ClassifierTrainer(options: o, directory: dir, backend: CPUBackend(), quiet: true).train(data, resume: false)) {
            let text = "\($0)"
            XCTAssertTrue($0 is TrainingStopped, text)
            XCTAssertTrue(text.contains("stopped at step 1") && text.contains("NaN or inf"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("classifier.safetensors").path))
    }
}
