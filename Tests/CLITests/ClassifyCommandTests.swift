import Foundation
import SafeTensors
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
                                  "--epochs", "1", "--batch", "8", "--max-steps", "2", "--replicates", "50", "--device", "cpu",
                                  "--also-score", slices.path])
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
        for f in ["roc.svg", "confusion.svg", "fold1/predictions.csv", "fold1/classifier.safetensors", "fold2/log.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: cv.appendingPathComponent(f).path), f)
        }
        XCTAssertTrue(r.stdout.contains("pooled patient-level accuracy"), r.stdout)
        // The same slices scored again by the fold models: each patient gets its out-of-fold prediction again.
        let again = try String(contentsOf: cv.appendingPathComponent("also-scored/predictions.csv"), encoding: .utf8).split(separator: "\n")
        let pooledRows = Set(rows.dropFirst().map { $0.split(separator: ",").dropLast().joined(separator: ",") })
        XCTAssertEqual(Set(again.dropFirst().map(String.init)), pooledRows)
    }

    /// A missing `--also-score` folder, or one of other patients or cut another way, fails before any fold trains,
    /// naming the option and the folder.
    func testWrongSecondSliceSetFailsBeforeTraining() throws {
        let dir = try temporaryFolder("classify-also")
        defer { try? FileManager.default.removeItem(at: dir) }
        func slices(_ name: String, cases: Int, seed: Int) throws -> URL {
            let data = dir.appendingPathComponent("data-\(name)"), out = dir.appendingPathComponent("slices-\(name)")
            XCTAssertEqual(try runSwinLiver(["synth", "--cases", "\(cases)", "--seed", "\(seed)", "--in-plane", "64,52", "--out", data.path]).status, 0)
            XCTAssertEqual(try runSwinLiver(["slices", "--data", data.path, "--out", out.path]).status, 0)
            return out
        }
        let own = try slices("own", cases: 4, seed: 0), foreign = try slices("foreign", cases: 6, seed: 0)
        let wider = dir.appendingPathComponent("slices-wider")
        XCTAssertEqual(try runSwinLiver(["slices", "--data", dir.appendingPathComponent("data-own").path, "--out", wider.path, "--margin", "4"]).status, 0)
        for (second, expected) in [(dir.appendingPathComponent("no-such-slices").path, "no-such-slices"),
                                   (foreign.path, "is not among the 4 patients"), (wider.path, "were cut with window auto, margin 4.0 mm")] {
            let cv = dir.appendingPathComponent("cv-\(UUID().uuidString.prefix(6))")
            let r = try runSwinLiver(["classify", "cv", "--slices", own.path, "--out", cv.path, "--folds", "2", "--size", "75", "--epochs", "1",
                                      "--batch", "8", "--max-steps", "1", "--device", "cpu", "--also-score", second])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), r.stderr)
            XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: cv.appendingPathComponent("fold1").path), "no fold trained before the check")
        }
    }
}

extension ClassifyCommandTests {
    func losses(_ log: URL) throws -> [Int: Double] { try loggedLosses(log) }

    /// `classify train` killed with SIGKILL and continued with `--resume` logs the uninterrupted run's losses and ends
    /// with its weights; resuming with other options is refused naming the checkpoint.
    func testKilledClassifierRunResumesWithTheSameLosses() throws {
        let dir = try temporaryFolder("classify-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), slices = dir.appendingPathComponent("slices")
        XCTAssertEqual(try runSwinLiver(["synth", "--cases", "3", "--in-plane", "64,52", "--out", data.path]).status, 0)
        XCTAssertEqual(try runSwinLiver(["slices", "--data", data.path, "--out", slices.path]).status, 0)
        let args = ["--slices", slices.path, "--size", "75", "--epochs", "2", "--batch", "8", "--checkpoint-every", "1", "--swa-start", "0.5",
                    "--device", "cpu", "--quiet"]
        let straight = dir.appendingPathComponent("straight")
        var r = try runSwinLiver(["classify", "train", "--out", straight.path] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let want = try losses(straight.appendingPathComponent("log.jsonl"))
        XCTAssertEqual(want.keys.sorted(), Array(1...12), "45 slices in batches of 8 (the last of 5), 2 epochs")

        let killed = dir.appendingPathComponent("killed")
        let log = killed.appendingPathComponent("log.jsonl")
        XCTAssertTrue(try killSwinLiver(["classify", "train", "--out", killed.path] + args, whenLogged: 3, in: log),
                      "the run finished before it could be killed")
        XCTAssertLessThan(try losses(log).count, 12)
        XCTAssertFalse(FileManager.default.fileExists(atPath: killed.appendingPathComponent("classifier.safetensors").path))
        r = try runSwinLiver(["classify", "train", "--out", killed.path, "--resume"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try losses(log), want, "a resumed run must reproduce the uninterrupted run's losses")
        let a = try SafeTensorsFile(contentsOf: straight.appendingPathComponent("classifier.safetensors"))
        let b = try SafeTensorsFile(contentsOf: killed.appendingPathComponent("classifier.safetensors"))
        for k in ["Conv2d_1a_3x3.conv.weight", "fc.0.weight", "Mixed_7c.branch_pool.bn.running_mean"] {
            XCTAssertEqual(try a.floats(k), try b.floats(k), k)
        }

        r = try runSwinLiver(["classify", "train", "--out", killed.path, "--resume", "--lr", "0.5"] + args)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("checkpoint.safetensors") && r.stderr.contains("other options"), r.stderr)
        r = try runSwinLiver(["classify", "train", "--out", dir.appendingPathComponent("none").path, "--resume"] + args)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no checkpoint to resume from"), r.stderr)
    }
}
