import Foundation
import TestSupport
import XCTest

/// The bounded slice of `make fuzz` in `make test`: the built `swinliver-fuzz` drives the debug
/// `swinliver` with every regression case of fuzz/regressions.txt and 400 cases of a fixed seed
/// (about a minute on two cores). No case may crash, hang, allocate past the bound or change its input.
final class FuzzSliceTests: XCTestCase {
    func testHostileInputNeverCrashesHangsOrAllocatesHugely() throws {
        let root = Reference.packageRoot
        let fuzzer = root.appendingPathComponent(".build/debug/swinliver-fuzz"), binary = root.appendingPathComponent(".build/debug/swinliver")
        for b in [fuzzer, binary] where !FileManager.default.isExecutableFile(atPath: b.path) {
            XCTFail("\(b.path) is missing: build the package (make test builds every product) before the tests")
            return
        }
        let dir = try temporaryFolder("fuzz-slice")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = dir.appendingPathComponent("report.json"), failures = root.appendingPathComponent("runs/fuzz/test-failures")
        try? FileManager.default.removeItem(at: failures)
        let p = Process()
        p.executableURL = fuzzer
        p.currentDirectoryURL = root
        p.arguments = ["--binary", binary.path, "--cases", "400", "--seed", "2", "--jobs", "2", "--time-limit", "20",
                       "--regressions", root.appendingPathComponent("fuzz/regressions.txt").path,
                       "--failures", failures.path, "--work", dir.path, "--report", report.path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let log = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()

        guard let data = try? Data(contentsOf: report),
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return XCTFail("swinliver-fuzz wrote no report (exit \(p.terminationStatus)):\n\(log)")
        }
        let cases = json["cases"] as? Int ?? 0
        XCTAssertGreaterThanOrEqual(cases, 400, "every case ran")
        let failed = json["failures"] as? [[String: Any]] ?? []
        var byOutcome: [String: Int] = [:]
        for f in failed { byOutcome[f["outcome"] as? String ?? "?", default: 0] += 1 }
        for outcome in ["crash", "hang", "giant-allocation", "data-loss"] {
            XCTAssertEqual(byOutcome[outcome] ?? 0, 0, "\(outcome) cases")
        }
        // The table and one line per distinct failure class, each with its reproduction.
        let summary = log.range(of: "\nfamily ").map { String(log[$0.lowerBound...]) } ?? log
        XCTAssertEqual(p.terminationStatus, 0, "swinliver-fuzz found \(failed.count) failing cases (inputs in \(failures.path)):\n\(summary)")
    }
}
