import Foundation
import TestSupport
import XCTest

/// `swinliver classify cv` end to end on slices of a tiny synthetic cohort (75 px, a few steps).
final class ClassifyCommandTests: XCTestCase {
    func testCrossValidationWritesPerFoldAndPooledResults() throws {
        let dir = try temporaryFolder("classify")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), slices = dir.appendingPathComponent("slices"), cv = dir.appendingPathComponent("cv")
        XCTAssertEqual(try runSwinLiver(["synth", "--cases", "4", "--in-plane", "64,52", "--out", data.path]).status, 0)
        XCTAssertEqual(try runSwinLiver(["slices", "--data", data.path, "--out", slices.path]).status, 0)
        let r = try runSwinLiver(["classify", "cv", "--slices", slices.path, "--out", cv.path, "--folds", "2", "--size", "75",
                                  "--epochs", "1", "--batch", "8", "--max-steps", "2", "--replicates", "50", "--device", "cpu"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try String(contentsOf: cv.appendingPathComponent("predictions.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "patient,label,p_HCC,p_ICC,p_CRLM,fold")
        XCTAssertEqual(Set(rows.dropFirst().map { $0.split(separator: ",")[0] }).count, 4, "every patient predicted exactly once")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: cv.appendingPathComponent("cv.json"))) as! [String: Any]
        // The pooled accuracy is the share of patients whose highest probability is their class.
        let predicted = rows.dropFirst().map { $0.split(separator: ",").map(String.init) }
        let correct = predicted.filter { r in
            let p = r[2...4].map { Double($0)! }
            return ["HCC", "ICC", "CRLM"][p.indices.max { p[$0] < p[$1] }!] == r[1]
        }.count
        let pooled = (json["pooled"] as? [String: Any])?["accuracy"] as? [String: Any]
        XCTAssertEqual(pooled?["value"] as? Double ?? -1, Double(correct) / Double(predicted.count), accuracy: 1e-12)
        XCTAssertEqual((json["folds"] as? [String: Any])?.count, 2)
        for f in ["roc.svg", "confusion.svg", "fold1_predictions.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: cv.appendingPathComponent(f).path), f)
        }
        XCTAssertTrue(r.stdout.contains("pooled patient-level accuracy"), r.stdout)
    }
}
