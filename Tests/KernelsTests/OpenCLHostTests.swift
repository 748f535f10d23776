import Foundation
import TestSupport
import XCTest

@testable import Kernels

/// The OpenCL host layer: discovery, errors, program cache, buffer pool, profiling, transfers.
final class OpenCLHostTests: XCTestCase {
    func testDevicesAreListed() throws {
        let devices = try listOpenCLDevices()
        if devices.isEmpty { _ = try TestBackends.openCL() }  // fails under CI, skips elsewhere
        for d in devices {
            print("found \(d)")
            XCTAssertFalse(d.name.isEmpty)
            XCTAssertGreaterThan(d.globalMemoryBytes, 0)
            XCTAssertGreaterThan(d.computeUnits, 0)
            XCTAssertTrue(d.version.hasPrefix("OpenCL"), d.version)
        }
    }

    func testMissingDeviceIsAnErrorListingWhatExists() throws {
        _ = try TestBackends.openCL()
        XCTAssertThrowsError(try OpenCLBackend(index: 99)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("opencl:99"), text)
            XCTAssertTrue(text.contains("opencl:0"), text)
        }
    }

    func testDeviceSpecifierParsing() throws {
        XCTAssertEqual(try DeviceSpecifier(parsing: "cpu"), .cpu)
        XCTAssertEqual(try DeviceSpecifier(parsing: "opencl"), .opencl(index: 0))
        XCTAssertEqual(try DeviceSpecifier(parsing: "OpenCL:2"), .opencl(index: 2))
        XCTAssertThrowsError(try DeviceSpecifier(parsing: "cuda"))
        XCTAssertThrowsError(try DeviceSpecifier(parsing: "opencl:-1"))
        XCTAssertEqual(try DeviceSpecifier.resolve(nil, environment: ["SWINLIVER_DEVICE": "cpu"]), .cpu)
        XCTAssertEqual(try DeviceSpecifier.resolve("opencl:1", environment: ["SWINLIVER_DEVICE": "cpu"]), .opencl(index: 1))
        // The default is the fastest device: a GPU, else the CPU backend, never an OpenCL CPU driver unasked.
        XCTAssertEqual(DeviceSpecifier.fastest(among: []), .cpu)
        XCTAssertEqual(DeviceSpecifier.fastest(among: [(index: 0, isGPU: false)]), .cpu)
        XCTAssertEqual(DeviceSpecifier.fastest(among: [(index: 0, isGPU: false), (index: 1, isGPU: true), (index: 2, isGPU: true)]),
                       .opencl(index: 1))
        if try !listOpenCLDevices().contains(where: \.isGPU) {   // CI: PoCL only
            XCTAssertEqual(try DeviceSpecifier.resolve(nil, environment: [:]), .cpu, "PoCL must not be chosen unasked")
        }
    }

    func testOutOfMemoryNamesTheTensor() throws {
        let cl = try TestBackends.openCL()
        XCTAssertThrowsError(try cl.allocate(Shape(1 << 20, 1 << 20), name: "giant activation")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("out of device memory"), text)
            XCTAssertTrue(text.contains("giant activation"), text)
            XCTAssertTrue(text.contains("MiB"), text)
        }
    }

    func testForeignTensorIsRejected() throws {
        let cl = try TestBackends.openCL()
        let onCPU = try CPUBackend().zeros(Shape(4), name: "cpu tensor")
        XCTAssertThrowsError(try cl.download(onCPU)) { XCTAssertTrue("\($0)".contains("cpu tensor")) }
        let other = try TestBackends.openCL()
        let t = try other.zeros(Shape(4), name: "other context")
        XCTAssertThrowsError(try cl.apply(.relu, t)) { XCTAssertTrue("\($0)".contains("other context")) }
    }

    func testBuildFailureCarriesTheLog() throws {
        _ = try TestBackends.openCL()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-badkernels-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "__kernel void fill(__global float* y, const float v, const int n) { y[0] = undefined_name; }"
            .write(to: dir.appendingPathComponent("elementwise.cl"), atomically: true, encoding: .utf8)
        let cl = try OpenCLBackend(cacheDirectory: nil, kernelDirectory: dir)
        let t = try cl.allocate(Shape(3), name: "t")
        print("note: the OpenCL compiler error printed next is this test's deliberately broken kernel")
        XCTAssertThrowsError(try cl.fill(t, value: 1)) { error in
            guard let e = error as? KernelBuildError else { return XCTFail("expected KernelBuildError, got \(error)") }
            XCTAssertEqual(e.program, "elementwise")
            XCTAssertTrue(e.log.contains("undefined_name"), e.log)
        }
    }

    func testProgramBinariesAreCachedOnDisk() throws {
        _ = try TestBackends.openCL()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-cache-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        for round in 0..<2 {
            let cl = try OpenCLBackend(cacheDirectory: dir)
            let t = try cl.full(Shape(5), value: 2, name: "t")
            XCTAssertEqual(try cl.download(try cl.apply(.scale(3), t)), [Float](repeating: 6, count: 5), "round \(round)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertTrue(files.contains { $0.hasPrefix("elementwise-") && $0.hasSuffix(".bin") }, "\(files)")
    }

    func testProfilingCollectsEventsPerKernel() throws {
        let cl = try TestBackends.openCL(profiling: true)
        let a = try cl.full(Shape(33, 17), value: 1, name: "a")
        let b = try cl.full(Shape(17, 9), value: 2, name: "b")
        _ = try cl.apply(.relu, try cl.matmul(a, b))
        let profile = try cl.profile()
        let names = Set(profile.map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["fill", "unary_forward", "clblast_sgemm"]), "\(names)")
        XCTAssertTrue(profile.allSatisfy { $0.calls > 0 })
    }

    func testOpsDoNotTouchTheHostAndBuffersAreReused() throws {
        for backend in try TestBackends.all() {
            let x = try backend.upload((0..<60).map(Float.init), shape: Shape(3, 4, 5), name: "x")
            let base = backend.memory
            var peak = 0
            for _ in 0..<20 {
                let (y, _) = try backend.layerNorm(try backend.apply(.gelu, x), gamma: nil, beta: nil)
                _ = try backend.sum(try backend.permute(y, [2, 0, 1]), axis: 0)
                peak = max(peak, backend.memory.bytesInUse)
            }
            let after = backend.memory
            XCTAssertEqual(after.uploads, base.uploads, backend.deviceName)
            XCTAssertEqual(after.downloads, base.downloads, backend.deviceName)
            XCTAssertEqual(after.bytesInUse, base.bytesInUse, "\(backend.deviceName): every temporary was released")
            XCTAssertLessThan(after.peakBytes, base.bytesInUse + 20 * 4096, backend.deviceName)
        }
    }

    /// `write(_:into:after:)` copies on a second queue from pinned memory: kernels enqueued before it read the old
    /// values, kernels after it the new ones, the caller's array is free once it returns, and rewriting one buffer
    /// reuses one pinned staging buffer.
    func testWritesAfterAFenceAreOrderedAgainstKernels() throws {
        for b in try TestBackends.all() {
            let n = 1 << 18
            var values = (0..<n).map { Float($0 % 1000) }
            let t = try b.upload(values, shape: Shape(n), name: "batch")
            var copies: [(Tensor, [Float])] = []
            for i in 1...6 {
                let before = try b.zeros(Shape(n), name: "copy before \(i)")
                try b.axpy(alpha: 1, x: t, y: before)   // reads the old values
                copies.append((before, values))
                values = (0..<n).map { Float(($0 * i) % 997) }
                try b.write(values, into: t, after: try b.fence())
                let written = values
                values[0] = -1   // the caller's array changes at once; the device must still get `written`
                values = written
            }
            let after = try b.zeros(Shape(n), name: "copy after")
            try b.axpy(alpha: 1, x: t, y: after)
            copies.append((after, values))
            for (k, (tensor, expected)) in copies.enumerated() {
                XCTAssertEqual(try b.download(tensor), expected, "copy \(k) on \(b.deviceName)")
            }
            if let cl = b as? OpenCLBackend { XCTAssertEqual(cl.pinnedStaging.creations, 1, "one staging buffer, reused") }
            // Pooled memory handed out again while kernels that wrote it are still queued: a fence taken after the
            // allocation keeps those writes from landing on the copy.
            let busy = try b.zeros(Shape(4 * n), name: "busy")
            for round in 0..<4 {
                do {
                    let old = try b.allocate(Shape(n), name: "released")
                    for _ in 0..<40 { try b.axpy(alpha: 1, x: busy, y: busy) }   // the queue is busy...
                    try b.fill(old, value: Float(round))                         // ...when this write is enqueued
                }
                let fresh = try b.allocate(Shape(n), name: "reused")
                try b.write(values, into: fresh, after: try b.fence())
                XCTAssertEqual(try b.download(fresh), values, "round \(round) on \(b.deviceName)")
            }
        }
    }

    func testBucketsBoundTheWaste() {
        for bytes in [1, 255, 256, 257, 1000, 4096, 4097, 1 << 20, (1 << 20) + 1, 123_456_789] {
            let b = BufferPool.bucket(bytes)
            XCTAssertGreaterThanOrEqual(b, bytes)
            XCTAssertLessThanOrEqual(Double(b), max(256, Double(bytes) * 1.125 + 256), "\(bytes)")
        }
    }
}
