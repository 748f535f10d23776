import Foundation
import TestSupport
import XCTest

/// What a user reads when something goes wrong: one sentence naming the file, no Foundation dumps, and
/// a write that fails part way (a full disk, a file-size limit) leaves the previous output as it was.
final class ErrorTextTests: XCTestCase {
    func testFileErrorsNameTheFileWithoutFoundationText() throws {
        let dir = try temporaryFolder("errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (args, expected) in [
            (["metrics", "--classification", dir.appendingPathComponent("missing.csv").path], "missing.csv: No such file or directory"),
            (["metrics", "--classification", dir.path], "\(dir.path): Is a directory"),
            (["metrics", "--gt", dir.path, "--pred", dir.path], "is a folder, not a NIfTI file"),
        ] {
            let r = try runSwinLiver(args)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
            for raw in ["NSCocoaErrorDomain", "UserInfo", "Code=", "Fatal error"] { XCTAssertFalse(r.stderr.contains(raw), "\(args): \(r.stderr)") }
        }
    }

    /// `preprocess` under a 4 KiB file-size limit: exit 1 (not SIGXFSZ), the output named with the OS error,
    /// the earlier output unchanged, no temporary file left.
    func testFullDiskKeepsThePreviousOutput() throws {
        let dir = try temporaryFolder("fsize-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ct = try Reference.file("nifti/ct.nii.gz")
        let out = dir.appendingPathComponent("pre.nii.gz")
        let first = try runSwinLiver(["preprocess", ct.path, "--out", out.path, "--spacing", "3,3,3"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try Data(contentsOf: out)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        p.arguments = ["--fsize=2048", "--", Reference.packageRoot.appendingPathComponent(".build/debug/swinliver").path,
                       "preprocess", ct.path, "--out", out.path, "--spacing", "1,1,1"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "killed by a signal: \(text)")
        XCTAssertEqual(p.terminationStatus, 1, text)
        XCTAssertTrue(text.contains(out.path) && text.contains("File too large"), text)
        XCTAssertEqual(try Data(contentsOf: out), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["pre.nii.gz"])
    }
}
