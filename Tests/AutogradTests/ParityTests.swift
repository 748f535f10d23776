import Autograd
import Kernels
import TestSupport
import XCTest

/// Every op's OpenCL forward output and gradients equal the CPU reference (rel ≤ 1e-5).
final class ParityTests: XCTestCase {
    func testEveryOpMatchesCPUReference() throws {
        let cpu = CPUBackend()
        let cl = try TestBackends.openCL()
        print("OpenCL parity on \(cl.deviceName)")
        for (i, c) in opCases.enumerated() {
            let values = c.values(seed: UInt64(100 + i))
            let upstream = { (s: Shape) -> [Float] in var r = TestRandom(seed: 7); return r.normals(s.count) }
            let ref = try c.run(on: cpu, values: values, upstream: upstream)
            let got = try c.run(on: cl, values: values, upstream: upstream)
            XCTAssertEqual(got.shape, ref.shape, "\(c.name): output shape")
            assertClose(got.output, ref.output, rel: 1e-5, "\(c.name): forward")
            for k in 0..<ref.grads.count {
                assertClose(got.grads[k], ref.grads[k], rel: 1e-5, "\(c.name): gradient of input \(k)")
            }
        }
    }

    func testBatchNormRunningStatisticsMatch() throws {
        let cl = try TestBackends.openCL()
        var rng = TestRandom(seed: 3)
        let x = rng.normals(2 * 3 * 4 * 5)
        var results: [[Float]] = []
        for backend in [CPUBackend() as Backend, cl] {
            let running = RunningStats(mean: try backend.full(Shape(3), value: 0.1, name: "rm"),
                                       variance: try backend.full(Shape(3), value: 2, name: "rv"))
            let xt = try backend.upload(x, shape: Shape(2, 3, 4, 5), name: "x")
            _ = try backend.batchNorm(xt, gamma: try backend.full(Shape(3), value: 1, name: "g"),
                                      beta: try backend.full(Shape(3), value: 0, name: "b"), running: running, training: true)
            results.append(try backend.download(running.mean) + backend.download(running.variance))
        }
        assertClose(results[1], results[0], rel: 1e-6, "running statistics")
    }

    func testDropoutMaskIsSeededAndIdenticalAcrossBackends() throws {
        let cl = try TestBackends.openCL()
        let shape = Shape(1000)
        let cpu = CPUBackend()
        func mask(_ b: Backend, _ seed: UInt64) throws -> [Float] {
            let t = try b.allocate(shape, name: "mask")
            try b.dropoutMask(y: t, p: 0.25, seed: seed)
            return try b.download(t)
        }
        let a = try mask(cpu, 42)
        XCTAssertEqual(a, try mask(cl, 42))
        XCTAssertNotEqual(a, try mask(cpu, 43))
        let kept = a.filter { $0 != 0 }.count
        XCTAssertEqual(Double(kept) / 1000, 0.75, accuracy: 0.05)
        XCTAssertTrue(a.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
    }
}
