import Foundation
import TestSupport
import XCTest

/// scripts/gpu-check --quick on the OpenCL device CI has (PoCL): devices, train-step parity against the CPU
/// backend, the train-step benchmark with its counters, one JSON and one Markdown table, and a closing line that
/// says which parts did not run (it never reads as complete while a part is missing).
final class GPUCheckTests: XCTestCase {
    func testQuickGPUCheckRunsOnTheOpenCLDevice() throws {
        _ = try TestBackends.openCL()
        let out = try temporaryFolder("gpu-check")
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Reference.packageRoot.appendingPathComponent("scripts/gpu-check").path, "--quick",
                       "--device", "opencl:\(ProcessInfo.processInfo.environment["SWINLIVER_TEST_OPENCL_DEVICE"] ?? "0")",
                       "--out", out.path]
        var env = ProcessInfo.processInfo.environment
        env["SWINLIVER"] = Reference.packageRoot.appendingPathComponent(".build/debug/swinliver").path
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("gpu-check: PARTIAL") && last.contains("not run"), last)

        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("gpu-check.json")))
            as? [String: Any])
        let parity = try XCTUnwrap(report["parity"] as? [String: Any])
        XCTAssertEqual(parity["passed"] as? Bool, true, "\(parity)")
        XCTAssertEqual(parity["tensors"] as? Int, 304, "logits, loss, 151 gradients and 151 parameters after one AdamW step")
        let train = try XCTUnwrap((report["swinliver"] as? [[String: Any]])?.first)
        for key in ["ms_per_step", "launches_per_step", "allocations_per_step", "blocking_calls_per_step", "peak_device_bytes"] {
            XCTAssertNotNil(train[key] as? Double ?? (train[key] as? Int).map(Double.init), "bench train --json lacks \(key)")
        }
        XCTAssertEqual(train["allocations_per_step"] as? Double, 0, "a warmed-up step allocates nothing")
        XCTAssertEqual(train["blocking_calls_per_step"] as? Double, 1, "one blocking host call per step")
        XCTAssertGreaterThan(train["ms_per_step"] as? Double ?? 0, 0)
        let profile = try String(contentsOf: out.appendingPathComponent("train-f12-r64-b1-profile.md"), encoding: .utf8)
        XCTAssertTrue(profile.contains("| **step** |") && profile.contains("narrow calls"),
                      "the profiled step: its roofline table and the launch-size count\n\(profile)")
        let table = try String(contentsOf: out.appendingPathComponent("gpu-check.md"), encoding: .utf8)
        XCTAssertTrue(table.contains("| SwinLiver | opencl:"), table)
        let window = try XCTUnwrap((report["sliding_window"] as? [[String: Any]])?.first)
        XCTAssertEqual(window["windows"] as? Int, 4, "96×96×64 at roi 64, overlap 0.5: 2 × 2 × 1 windows")
        XCTAssertGreaterThan(window["ms"] as? Double ?? 0, 0)
        let inception = try XCTUnwrap((report["classify"] as? [[String: Any]])?.first)
        XCTAssertEqual(inception["batch"] as? Int, 4)
        XCTAssertGreaterThan(inception["images_per_second"] as? Double ?? 0, 0)
        XCTAssertTrue(table.contains("not run: "), table)
        XCTAssertFalse((report["not_run"] as? [String] ?? []).isEmpty)
    }
}
