import Foundation
import SafeTensors
import TestSupport
import Volumes
import XCTest

/// `swinliver run` (segment → largest tumour → classify → report) and `classify explain`, with tiny
/// models trained for one step, on a synthetic case and on the real contrast-enhanced scan.
final class RunCommandTests: XCTestCase {
    func testRunAndExplain() throws {
        let dir = try temporaryFolder("run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), slices = dir.appendingPathComponent("slices")
        XCTAssertEqual(try runSwinLiver(["synth", "--cases", "3", "--in-plane", "48,40", "--out", data.path]).status, 0)
        var r = try runSwinLiver(["train", "--data", data.path, "--out", dir.appendingPathComponent("seg").path, "--feature-size", "12",
                                  "--roi", "64,32,32", "--spacing", "8", "--epochs", "1", "--batch", "1", "--samples", "1",
                                  "--max-steps", "1", "--device", "cpu", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try runSwinLiver(["slices", "--data", data.path, "--out", slices.path]).status, 0)
        r = try runSwinLiver(["classify", "train", "--slices", slices.path, "--out", dir.appendingPathComponent("cls").path, "--size", "75",
                              "--epochs", "1", "--batch", "8", "--max-steps", "1", "--device", "cpu"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let seg = dir.appendingPathComponent("seg/final.safetensors").path, cls = dir.appendingPathComponent("cls/classifier.safetensors").path

        // Grad-CAM overlays for one patient.
        let patient = try String(contentsOf: slices.appendingPathComponent("manifest.csv"), encoding: .utf8).split(separator: "\n")[1]
            .split(separator: ",")[0]
        r = try runSwinLiver(["classify", "explain", "--weights", cls, "--slices", slices.path, "--patient", String(patient),
                              "--out", dir.appendingPathComponent("cam").path, "--device", "cpu"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("cam").path).filter { $0.hasSuffix(".png") }.count, 15)

        // debug forward --model inception-v3 on the trained classifier; a wrong head size is a named strict-load error.
        let x = dir.appendingPathComponent("x.safetensors"), y = dir.appendingPathComponent("y.safetensors")
        var w = SafeTensorsWriter()
        try w.add("x", [Float](repeating: 0.5, count: 3 * 75 * 75), shape: [1, 3, 75, 75])
        try w.write(to: x)
        let forward = ["debug", "forward", "--model", "inception-v3", "--weights", cls, "--input", x.path, "--output", y.path, "--device", "cpu"]
        r = try runSwinLiver(forward + ["--num-classes", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: y).shape("logits"), [1, 3])
        r = try runSwinLiver(forward + ["--num-classes", "4"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("fc.6.weight"), r.stderr)

        // A synthetic case and (when the shared data is there) the real scan.
        var inputs = [data.appendingPathComponent("imagesTr").appendingPathComponent(
            try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("imagesTr").path).sorted()[0])]
        let real = Reference.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/real/abdomen-ce-ct.nii.gz")
        if FileManager.default.fileExists(atPath: real.path) { inputs.append(real) } else if TestBackends.openCLRequired {
            XCTFail("\(real.path) is missing")
        } else { print("notice: \(real.path) missing; run checked on the synthetic case only") }
        for ct in inputs {
            let out = dir.appendingPathComponent("out")
            r = try runSwinLiver(["run", ct.path, "--seg-weights", seg, "--cls-weights", cls, "--out", out.path, "--device", "cpu"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let name = NIfTI.stem(ct.lastPathComponent)!
            let caseDir = out.appendingPathComponent(name)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: caseDir.appendingPathComponent("report.json"))) as! [String: Any]
            XCTAssertNotNil(json["liver_volume_ml"] as? Double)
            let md = try String(contentsOf: caseDir.appendingPathComponent("report.md"), encoding: .utf8)
            if (json["tumour_count"] as? Int ?? 0) > 0 {
                XCTAssertNotNil(json["tumour_type"] as? String, "\(json)")
                XCTAssertNotNil(json["flag_for_review"] as? Bool)
                XCTAssertTrue(md.contains("Tumour type") && FileManager.default.fileExists(atPath: caseDir.appendingPathComponent("key_slice.png").path))
                XCTAssertTrue(md.contains("Grad-CAM") && FileManager.default.fileExists(atPath: caseDir.appendingPathComponent("gradcam.png").path))
                XCTAssertEqual(json["gradcam"] as? String, "gradcam.png")
            } else {
                XCTAssertTrue(md.contains("No tumour found"), md)
            }
            let (mask, _) = try NIfTI.read(caseDir.appendingPathComponent("mask.nii.gz")), (image, _) = try NIfTI.read(ct)
            XCTAssertEqual(mask.shape, image.shape)
            XCTAssertEqual(mask.affine, image.affine)
        }
    }
}
