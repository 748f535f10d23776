import Autograd
import Classification
import Foundation
import Kernels
import Models
import Pipeline
import TestSupport
import Volumes
import XCTest

/// `run`'s per-case report on a phantom whose answers are known: volumes, components, the longest axial diameter,
/// the type's probabilities, the review flag, and the files written.
final class CaseReportTests: XCTestCase {
    /// A 48 × 48 × 12 CT (1 × 1 × 2 mm, RAS) with a liver block and two tumour spheres (radius 8 and 3 voxels in-plane).
    func phantom() -> (ct: Volume, mask: Volume) {
        let s = [48, 48, 12]
        let affine = Affine([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])
        var ct = [Float](repeating: -100, count: s.reduce(1, *)), mask = [Float](repeating: 0, count: ct.count)
        for x in 0..<s[0] { for y in 0..<s[1] { for z in 0..<s[2] {
            let i = (x * s[1] + y) * s[2] + z
            guard (4..<44).contains(x), (4..<44).contains(y) else { continue }
            (ct[i], mask[i]) = (110, 1)
            let big = Double((x - 18) * (x - 18) + (y - 20) * (y - 20)) + 4 * Double((z - 6) * (z - 6))
            let small = Double((x - 36) * (x - 36) + (y - 34) * (y - 34)) + 4 * Double((z - 6) * (z - 6))
            if big <= 64 || small <= 9 { (ct[i], mask[i]) = (60 + Float(x % 3), 2) }
        } } }
        return (Volume(shape: s, values: ct, affine: affine), Volume(shape: s, values: mask, affine: affine))
    }

    /// The phantom's CT written into `dir` as ct.nii.gz, and an untrained classifier on the CPU backend.
    func fixture(in dir: URL) throws -> (url: URL, mask: Volume, backend: CPUBackend, classifier: InceptionV3) {
        let (ct, mask) = phantom()
        let url = dir.appendingPathComponent("ct.nii.gz")
        try NIfTI.write(ct, to: url)
        let backend = CPUBackend()
        return (url, mask, backend, try InceptionV3(classes: 3, auxLogits: false, head: .mlp(dropout: 0.5), backend: backend, seed: 1))
    }

    func testReportOnAKnownPhantom() throws {
        let dir = try temporaryFolder("case-report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, mask, backend, classifier) = try fixture(in: dir)
        let report = try CaseReport(ct: url, mask: mask, classifier: classifier, size: 75, backend: backend, slicing: SliceSettings(), reviewBelow: 1.0)

        let voxelML = 2.0 / 1000
        XCTAssertEqual(report.liverML, Double(mask.values.filter { $0 >= 1 }.count) * voxelML, accuracy: 1e-9)
        XCTAssertEqual(report.tumourML.count, 2, "two separate tumours")
        XCTAssertEqual(report.tumourML, report.tumourML.sorted(by: >), "largest first")
        XCTAssertEqual(report.tumourML.reduce(0, +), Double(mask.values.filter { $0 == 2 }.count) * voxelML, accuracy: 1e-9)
        // The big sphere's centre slice is a disc of radius 8 voxels: its farthest voxel centres are 16 mm apart.
        XCTAssertEqual(report.diameterMM ?? 0, 16, accuracy: 1e-9)
        let p = try XCTUnwrap(report.probabilities)
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertTrue(report.needsReview, "no class reaches probability 1.0")
        XCTAssertEqual(report.keySlice?.index, 6)
        XCTAssertEqual(report.gradCAM?.size, 75)

        try report.write(to: dir, name: "ct")
        for f in ["report.json", "report.md", "key_slice.png", "gradcam.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report.json"))) as! [String: Any]
        XCTAssertEqual(json["tumour_count"] as? Int, 2)
        XCTAssertEqual(json["flag_for_review"] as? Bool, true)
        XCTAssertEqual(json["largest_tumour_axial_diameter_mm"] as? Double ?? 0, 16, accuracy: 1e-9)
    }

    /// The report cuts its slices with the settings it is given (the classifier's): its probabilities are the classifier's
    /// on slices cut that way, not on the default cut.
    func testReportCutsSlicesAsTheClassifierWasTrained() throws {
        let dir = try temporaryFolder("case-report-slicing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, mask, backend, classifier) = try fixture(in: dir)
        let wide = SliceSettings(window: .none, marginMM: 6)
        func cut(_ s: SliceSettings) throws -> [[Float]] {
            let image = try Preprocessing.orient(try NIfTI.read(url).volume), labels = try Preprocessing.orient(mask)
            let c = try XCTUnwrap(try TumourSlices.extract(ct: image, label: labels, size: 75, window: s.window, marginMM: s.marginMM))
            return (0..<c.count).map { Array(c.images[$0 * 75 * 75..<($0 + 1) * 75 * 75]) }
        }
        // A freshly initialised network gives the same output for any input (its BatchNorm statistics are 0 and 1): a few
        // training-mode passes over both cuts give it statistics, and so an output that depends on its input.
        classifier.training = true
        for images in [try cut(wide), try cut(SliceSettings())] {
            let tape = Tape(backend: backend, recording: false)
            let x = try backend.upload(images.flatMap { im in [im, im, im].flatMap { $0 } }, shape: Shape(images.count, 3, 75, 75), name: "slices")
            for _ in 0..<5 { _ = try classifier(tape.input(x), tape: tape) }
        }
        let report = try CaseReport(ct: url, mask: mask, classifier: classifier, size: 75, backend: backend, slicing: wide, reviewBelow: 0.6)
        func probabilities(_ s: SliceSettings) throws -> [Double] {
            try ClassifierWeights.predict(classifier, backend: backend, images: try cut(s), size: 75)
        }
        let p = try XCTUnwrap(report.probabilities)
        for (a, b) in zip(p, try probabilities(wide)) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertNotEqual(p, try probabilities(SliceSettings()))
    }

    func testNoTumourMeansNoType() throws {
        let dir = try temporaryFolder("case-report-none")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, phantomMask, backend, classifier) = try fixture(in: dir)
        var mask = phantomMask
        mask.values = mask.values.map { min($0, 1) }
        let report = try CaseReport(ct: url, mask: mask, classifier: classifier, size: 75, backend: backend, slicing: SliceSettings(), reviewBelow: 0.6)
        XCTAssertNil(report.probabilities)
        XCTAssertTrue(report.tumourML.isEmpty)
        XCTAssertFalse(report.needsReview)
        try report.write(to: dir, name: "ct")
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8).contains("No tumour found"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("gradcam.png").path))
    }
}
