import Foundation
import Kernels
import XCTest

/// The backends every parity test runs on. OpenCL must be present when `CI` or
/// `OPENCL_REQUIRED` is set (CI installs PoCL); elsewhere a missing device skips with a notice.
public enum TestBackends {
    public static var environment: [String: String] { ProcessInfo.processInfo.environment }

    public static var openCLRequired: Bool {
        ["1", "true"].contains(environment["CI"]?.lowercased() ?? "") || environment["OPENCL_REQUIRED"] == "1"
    }

    /// The CPU backend, then the OpenCL backend when there is a device. Where there is none the CPU half still
    /// runs: the OpenCL half is skipped with a notice, or fails the test under CI / OPENCL_REQUIRED.
    public static func all(file: StaticString = #filePath, line: UInt = #line) throws -> [Backend] {
        if (try listOpenCLDevices()).isEmpty {
            if openCLRequired {
                XCTFail("no OpenCL device found, but CI/OPENCL_REQUIRED demands one (install pocl-opencl-icd)", file: file, line: line)
            } else {
                print("notice: no OpenCL device; the OpenCL half of this test was skipped (the CPU half ran)")
            }
            return [CPUBackend()]
        }
        return [CPUBackend(), try openCL()]
    }

    /// A fresh OpenCL backend on device 0 (or `SWINLIVER_TEST_OPENCL_DEVICE`), or XCTSkip / failure.
    public static func openCL(profiling: Bool = false) throws -> OpenCLBackend {
        let index = Int(environment["SWINLIVER_TEST_OPENCL_DEVICE"] ?? "") ?? 0
        let devices = try listOpenCLDevices()
        if devices.isEmpty {
            if openCLRequired {
                XCTFail("no OpenCL device found, but CI/OPENCL_REQUIRED demands one (install pocl-opencl-icd)")
                throw DeviceError.notFound(requested: "opencl:\(index)", available: ["cpu"])
            }
            print("notice: no OpenCL device; skipped a test that needs OpenCL")
            throw XCTSkip("no OpenCL device")
        }
        return try OpenCLBackend(index: index, profiling: profiling)
    }
}

/// Golden files from ../shared/reference (or `SWINLIVER_REFERENCE_DIR`).
public enum Reference {
    /// The package root, found from this file's location.
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The reference folder; skips the test with a notice where it is missing, fails under CI.
    public static func directory() throws -> URL {
        let env = TestBackends.environment["SWINLIVER_REFERENCE_DIR"]
        let url = env.map { URL(fileURLWithPath: $0) }
            ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared/reference")
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return url }
        if ["1", "true"].contains(TestBackends.environment["CI"]?.lowercased() ?? "") {
            XCTFail("reference folder \(url.path) is missing (set SWINLIVER_REFERENCE_DIR)")
            throw CocoaError(.fileNoSuchFile)
        }
        print("notice: reference folder \(url.path) is missing; skipping (set SWINLIVER_REFERENCE_DIR)")
        throw XCTSkip("reference folder missing")
    }

    public static func file(_ relative: String) throws -> URL {
        try directory().appendingPathComponent(relative)
    }
}
