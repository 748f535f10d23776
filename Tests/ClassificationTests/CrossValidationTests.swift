import Classification
import Foundation
import Kernels
import Metrics
import SeededRandom
import TestSupport
import XCTest

/// Cross-validation as a library: out-of-fold predictions for every patient, a second slice set scored by the model
/// that held each patient out (patients missing there listed), and a resumed run that keeps the finished folds.
final class CrossValidationTests: XCTestCase {
    func patients(_ n: Int) -> [PatientSlices] {
        var rng = SplitMix64(seed: 4)
        return (0..<n).map { p in
            let label = p % 3
            let images = (0..<2).map { _ in (0..<(75 * 75)).map { i in Float(label) * 0.3 * Float(i % 5) / 5 + Float(rng.uniform(0, 0.05)) } }
            return PatientSlices(patient: "p\(p)", label: label, images: images, size: 75)
        }
    }

    func testEveryPatientOnceSecondSetAndResume() throws {
        let all = patients(6)
        var second = Array(all.prefix(5))   // p5 has no slices there (no tumour in its predicted mask)
        for i in second.indices { second[i].images = second[i].images.map { $0.map { 1 - $0 } } }
        var o = ClassifierOptions()
        o.epochs = 1; o.batchSize = 4; o.lr = 1e-3; o.swaStart = 1
        let cv = CrossValidation(folds: 2, options: o, replicates: 20, quiet: true)
        let dir = try temporaryFolder("cv")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try cv.run(patients: all, directory: dir, backend: CPUBackend(), resume: false)
        XCTAssertEqual(r.scores.predictions.map(\.patient).sorted(), all.map(\.patient).sorted(), "every patient predicted once")
        XCTAssertEqual(Set(r.assignment.values), [1, 2])
        for p in r.scores.predictions { XCTAssertEqual(p.probabilities.reduce(0, +), 1, accuracy: 1e-5) }
        let s = try cv.score(second, named: "predicted", of: all, assignment: r.assignment, directory: dir, backend: CPUBackend())
        XCTAssertEqual(s.predictions.map(\.patient).sorted(), ["p0", "p1", "p2", "p3", "p4"])
        XCTAssertEqual(s.notClassified, ["p5"])
        let json = s.json.text()
        XCTAssertTrue(json.contains("\"not_classified\": [\"p5\"]"), json)
        let correct = s.predictions.filter { $0.predicted == $0.label }.count
        XCTAssertTrue(json.contains("\"accuracy_all_patients\": \(JSONValue.number(Double(correct) / 6).text())"), json)
        for f in ["cv.json", "predictions.csv", "roc.svg", "confusion.svg", "predicted/cv.json", "predicted/predictions.csv",
                  "fold1/classifier.safetensors", "fold2/predictions.csv", "fold1/log.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("fold1/checkpoint.safetensors").path),
                       "a finished fold's checkpoint is removed")

        // Resume: fold 1 finished (its predictions are read back, not retrained: a marked row survives), fold 2 did not.
        let fold1 = dir.appendingPathComponent("fold1/predictions.csv")
        var rows = try ClassificationReport.read(fold1)
        rows[0].probabilities = [0.25, 0.25, 0.5]
        try ClassificationReport.csv(rows).write(to: fold1, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("fold2/predictions.csv"))
        let again = try cv.run(patients: all, directory: dir, backend: CPUBackend(), resume: true)
        XCTAssertEqual(again.scores.predictions.first { $0.patient == rows[0].patient }?.probabilities, [0.25, 0.25, 0.5])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("fold2/predictions.csv").path))
        XCTAssertEqual(again.scores.predictions.count, 6)

        // The second set is scored by the model that held each patient out: fold k's weights on its own patients.
        let backend = CPUBackend()
        let fold2 = try ClassifierWeights.load(dir.appendingPathComponent("fold2/classifier.safetensors"), backend: backend)
        let heldOut = try XCTUnwrap(second.first { again.assignment[$0.patient] == 2 })
        let want = try ClassifierWeights.predict(fold2.model, backend: backend, images: heldOut.images, size: 75, batch: o.batchSize)
        let got = try cv.score(second, named: "predicted", of: all, assignment: again.assignment, directory: dir, backend: CPUBackend())
        XCTAssertEqual(got.predictions.first { $0.patient == heldOut.patient }?.probabilities, want)
    }

    func testSecondSetWithAnotherClassIsRefused() throws {
        let all = patients(6)
        var second = all
        second[0].label = 1
        let cv = CrossValidation(folds: 2, options: ClassifierOptions(), replicates: 20, quiet: true)
        let assignment = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1.patient, $0 % 2 + 1) })
        XCTAssertThrowsError(try cv.score(second, named: "predicted", of: all, assignment: assignment, directory: URL(fileURLWithPath: "/nonexistent"),
                                          backend: CPUBackend())) {
            XCTAssertTrue("\($0)".contains("patient p0 is ICC there but HCC"), "\($0)")
        }
    }
}
