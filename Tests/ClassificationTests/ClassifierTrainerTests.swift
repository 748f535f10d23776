import Classification
import Foundation
import Kernels
import SeededRandom
import XCTest

/// Folds, oversampling, and the classifier's training loop (loss falls, SWA with BatchNorm update).
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
        var rng = SplitMix64(seed: 1)
        let epoch = ClassifierTrainer.epochSlices(ps, rng: &rng)
        let counts = (0..<3).map { c in epoch.filter { ps[$0.patient].label == c }.count }
        XCTAssertEqual(counts, [6, 6, 6])
    }

    func testLossFallsAndSWAUpdatesBatchNorm() throws {
        let data = patients(3, size: 75)
        var o = ClassifierOptions()
        o.epochs = 6; o.batchSize = 9; o.lr = 1e-3; o.warmupFraction = 0; o.swaStart = 0.5; o.labelSmoothing = 0.1
        let t = try ClassifierTrainer(options: o, backend: CPUBackend())
        try t.train(data)
        XCTAssertEqual(t.losses.count, 6)
        XCTAssertLessThan(t.losses.suffix(2).reduce(0, +), t.losses.prefix(2).reduce(0, +), "\(t.losses)")
        let means = try t.backend.download(t.model.batchNorms[0].runningMean.value)
        XCTAssertTrue(means.contains { $0 != 0 }, "BatchNorm statistics recomputed after SWA")
        XCTAssertEqual(t.model.batchNorms[0].momentum, 0.1, "momentum restored after update_bn")
        let p = try t.predict(data[0])
        XCTAssertEqual(p.count, 3)
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5)
    }
}
