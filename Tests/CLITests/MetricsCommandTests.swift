import Foundation
import Metrics
import SafeTensors
import TestSupport
import Volumes
import XCTest

/// `swinliver metrics` and `swinliver evaluate` end to end.
final class MetricsCommandTests: XCTestCase {
    /// The reference label and a prediction made from it: the tumour dilated along axis 0, liver cut at one edge.
    func pair(in dir: URL) throws -> (gt: URL, pred: URL, gtVolume: Volume, predVolume: Volume) {
        let src = try Reference.file("nifti/label.nii.gz")
        var (v, header) = try NIfTI.read(src)
        let gtURL = dir.appendingPathComponent("case1.nii.gz")
        try NIfTI.write(v, to: gtURL, as: .uint8, like: header)
        let s = v.shape
        for i in 1..<s[0] { for j in 0..<s[1] { for k in 0..<s[2] where v[i - 1, j, k] == 2 && v[i, j, k] == 1 { v[i, j, k] = 2 } } }
        for i in 0..<s[0] { for j in 0..<3 { for k in 0..<s[2] where v[i, j, k] == 1 { v[i, j, k] = 0 } } }
        let predURL = dir.appendingPathComponent("pred-case1.nii.gz")
        try NIfTI.write(v, to: predURL, as: .uint8, like: header)
        return (gtURL, predURL, try NIfTI.read(gtURL).volume, v)
    }

    func testPairPrintsMONAIMetricsAsJSON() throws {
        let dir = try temporaryFolder("metrics")
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try pair(in: dir)
        let r = try runSwinLiver(["metrics", "--gt", p.gt.path, "--pred", p.pred.path, "--labels", "1,2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: [String: [String: Any]]]
        for label in [1, 2] {
            let expected = try SegmentationMetrics.compute(gt: p.gtVolume.values.map { Int($0) == label },
                                                           pred: p.predVolume.values.map { Int($0) == label },
                                                           shape: p.gtVolume.shape, spacing: p.gtVolume.spacing)
            let got = json["labels"]![String(label)]!
            XCTAssertEqual(got["dice"] as! Double, expected.dice, accuracy: 1e-9)
            XCTAssertEqual(got["hd95"] as! Double, expected.hd95, accuracy: 1e-9)
            XCTAssertEqual(got["assd"] as! Double, expected.assd, accuracy: 1e-9)
            XCTAssertLessThan(got["dice"] as! Double, 1)
        }
    }

    func testMismatchedGridsAreAClearError() throws {
        let dir = try temporaryFolder("metrics-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try pair(in: dir)
        let other = try Reference.file("nifti/float_qform_only.nii.gz")
        let r = try runSwinLiver(["metrics", "--gt", p.gt.path, "--pred", other.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("float_qform_only.nii.gz") && r.stderr.contains("shape"), r.stderr)
        let r2 = try runSwinLiver(["metrics", "--gt", p.gt.path, "--pred", try Reference.file("nifti/ct.nii.gz").path])
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("ct.nii.gz") && r2.stderr.contains("not a label mask"), r2.stderr)
    }

    func testClassificationCSVWithCIsAndPlots() throws {
        let dir = try temporaryFolder("cls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("metrics/cls_metrics.json"))) as! [String: Any]
        let c = (json["cases"] as! [[String: Any]])[0]
        let names = ["HCC", "ICC", "CRLM"]
        var csv = "patient,label,p_HCC,p_ICC,p_CRLM\n"
        for (i, (l, p)) in zip(c["labels"] as! [Int], c["probs"] as! [[Double]]).enumerated() {
            csv += "P\(i),\(names[l]),\(p.map { String(Float($0)) }.joined(separator: ","))\n"
        }
        let file = dir.appendingPathComponent("p.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        let r = try runSwinLiver(["metrics", "--classification", file.path, "--bootstrap", "300", "--plots", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let acc = out["accuracy"] as! [String: Any]
        XCTAssertEqual(acc["value"] as! Double, c["accuracy_score"] as! Double, accuracy: 1e-12)
        let ci = acc["ci95"] as! [Double]
        XCTAssertLessThanOrEqual(ci[0], acc["value"] as! Double)
        XCTAssertGreaterThanOrEqual(ci[1], acc["value"] as! Double)
        let auc = (out["auc_ovr"] as! [String: Any])["macro"] as! [String: Any]
        XCTAssertEqual(auc["value"] as! Double, c["roc_auc_ovr_macro"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(out["confusion_matrix"] as! [[Int]], c["confusion_matrix"] as! [[Int]])
        for svg in ["roc.svg", "confusion.svg"] {
            XCTAssertTrue(isWellFormedXML(try Data(contentsOf: dir.appendingPathComponent(svg))), svg)
        }
        try "patient,label,p_HCC,p_ICC,p_CRLM\nP1,HCX,0.2,0.3,0.5\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try runSwinLiver(["metrics", "--classification", file.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("line 2"), bad.stderr)
        // Probabilities outside [0, 1] and a patient with two rows are errors naming the line, not silently scored.
        for (rows, expected) in [("P1,HCC,1.2,0.3,0.5\n", "line 2: probability '1.2'"), ("P1,HCC,0.2,-0.1,0.5\n", "line 2: probability '-0.1'"),
                                 ("P1,HCC,0.2,nan,0.5\n", "line 2: probability 'nan'"),
                                 ("P1,HCC,0.2,0.3,0.5\nP1,ICC,0.2,0.3,0.5\n", "line 3: patient P1 already has a row (line 2)")] {
            try ("patient,label,p_HCC,p_ICC,p_CRLM\n" + rows).write(to: file, atomically: true, encoding: .utf8)
            let r = try runSwinLiver(["metrics", "--classification", file.path])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(file.path) && r.stderr.contains(expected), r.stderr)
        }
    }

    func testEvaluateFolderWithManifestAndMissingCases() throws {
        let dir = try temporaryFolder("evaluate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gtDir = dir.appendingPathComponent("gt"), predDir = dir.appendingPathComponent("pred"), out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: gtDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: predDir, withIntermediateDirectories: true)
        let p = try pair(in: dir)
        for name in ["a", "b", "c"] { try FileManager.default.copyItem(at: p.gt, to: gtDir.appendingPathComponent("\(name).nii.gz")) }
        try FileManager.default.copyItem(at: p.pred, to: predDir.appendingPathComponent("a.nii.gz"))
        try FileManager.default.copyItem(at: p.gt, to: predDir.appendingPathComponent("b.nii.gz"))
        try FileManager.default.copyItem(at: p.gt, to: predDir.appendingPathComponent("z.nii.gz"))
        let manifest = dir.appendingPathComponent("m.csv")
        try "image,label,tumor_type,patient_id\nia.nii.gz,a.nii.gz,HCC,1\nib.nii.gz,b.nii.gz,ICC,2\nic.nii.gz,c.nii.gz,CRLM,3\n"
            .write(to: manifest, atomically: true, encoding: .utf8)
        let r = try runSwinLiver(["evaluate", "--pred", predDir.path, "--gt", gtDir.path, "--manifest", manifest.path,
                                  "--out", out.path, "--bootstrap", "200"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("no prediction for c"), r.stderr)
        XCTAssertTrue(r.stderr.contains("z has no ground truth"), r.stderr)
        let csv = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 2 * 2)
        XCTAssertTrue(csv.contains("b,ICC,1,liver,1.0,1.0,0.0,0.0,0.0"), csv)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["cases"] as? Int, 2)
        XCTAssertNotNil((summary["by_tumor_type"] as? [String: Any])?["HCC"])
        XCTAssertEqual((summary["warnings"] as? [String])?.count, 2)
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("## Tumour type ICC") && report.contains("no prediction for c"))
        for svg in ["boxplot_dice.svg", "boxplot_hd95.svg"] {
            XCTAssertTrue(isWellFormedXML(try Data(contentsOf: out.appendingPathComponent(svg))), svg)
        }
        // A manifest naming a type that is not HCC, ICC or CRLM is refused, naming the file and line.
        try "image,label,tumor_type,patient_id\nia.nii.gz,a.nii.gz,HCC,1\nib.nii.gz,b.nii.gz,XYZ,2\n".write(to: manifest, atomically: true, encoding: .utf8)
        let bad = try runSwinLiver(["evaluate", "--pred", predDir.path, "--gt", gtDir.path, "--manifest", manifest.path, "--out", out.path])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("m.csv") && bad.stderr.contains("line 3") && bad.stderr.contains("XYZ"), bad.stderr)
    }
}

/// `swinliver preprocess` writes MONAI's final arrays and affine.
final class PreprocessCommandTests: XCTestCase {
    func testPreprocessWritesTheChainResult() throws {
        let dir = try temporaryFolder("preprocess")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("img.nii.gz"), lab = dir.appendingPathComponent("lab.nii.gz")
        let r = try runSwinLiver(["preprocess", try Reference.file("nifti/ct.nii.gz").path, "--out", out.path,
                                  "--label", try Reference.file("nifti/label.nii.gz").path, "--label-out", lab.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let steps = try SafeTensorsFile(contentsOf: try Reference.file("preprocessing/steps.safetensors"))
        let (img, _) = try NIfTI.read(out), (l, _) = try NIfTI.read(lab)
        XCTAssertEqual(img.shape, [17, 14, 30])
        let want = try steps.floats("image.5_CropForegroundd")
        XCTAssertLessThanOrEqual(zip(img.values, want).map { abs($0 - $1) }.max()!, 1e-4)
        XCTAssertEqual(l.values, try steps.floats("label.5_CropForegroundd"))
        XCTAssertEqual(img.affine.rows[0][3], 127.88000416755676, accuracy: 1e-4)
        XCTAssertEqual(img.affine.axisCodes, ["R", "A", "S"])
        let bad = try runSwinLiver(["preprocess", try Reference.file("nifti/ct.nii.gz").path, "--out", out.path,
                                    "--label", try Reference.file("nifti/float_qform_only.nii.gz").path, "--label-out", lab.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("float_qform_only.nii.gz"), bad.stderr)
    }
}
