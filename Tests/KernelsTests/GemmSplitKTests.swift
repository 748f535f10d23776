import Foundation
import TestSupport
import XCTest

@testable import Kernels

/// Long-k GEMMs on OpenCL run as split-K (partial products per slice of k, then `gemm_splitk_sum`); every
/// transpose, offset, leading dimension and beta must give the CPU's C.
final class GemmSplitKTests: XCTestCase {
    func testSplitCoversKExactly() throws {
        for (m, n, k) in [(3, 5, 4133), (12, 324, 65536), (48, 1296, 18432), (1, 1, 1 << 20)] {
            let s = try XCTUnwrap(SplitK(m: m, n: n, k: k), "\(m)x\(n)x\(k) should be split")
            XCTAssertGreaterThanOrEqual(s.slices, 2)
            XCTAssertLessThanOrEqual(s.slices, SplitK.maxSlices)
            XCTAssertLessThanOrEqual(s.slices * m * n, SplitK.budgetFloats, "partials within budget")
            XCTAssertTrue((s.slices - 1) * s.length < k && k <= s.slices * s.length, "\(s) covers k = \(k)")
        }
        XCTAssertNil(SplitK(m: 64, n: 64, k: 4095), "short k is one GEMM")
        XCTAssertNil(SplitK(m: 4096, n: 4096, k: 8192), "no room for partials: one GEMM")
    }

    func testSplitKGemmMatchesCPU() throws {
        let cl = try TestBackends.openCL()
        let cpu = CPUBackend()
        let (m, n, k) = (3, 5, 4133)  // 5 slices: 4 of 827 and a last one of 825
        for transA in [false, true] {
            for transB in [false, true] {
                for beta: Float in [0, 0.5] {
                    var g = GemmArgs(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.75, beta: beta)
                    g.lda += 2; g.ldb += 1; g.ldc += 3
                    g.aOffset = 4; g.bOffset = 1; g.cOffset = 2
                    let e = g.extents
                    var r = TestRandom(seed: UInt64(transA ? 1 : 0) + (transB ? 2 : 0))
                    let a = r.normals(e.a), b = r.normals(e.b), c = r.normals(e.c)
                    func run(_ backend: Backend) throws -> [Float] {
                        let ct = try backend.upload(c, shape: Shape(c.count), name: "c")
                        try backend.gemm(g, a: try backend.upload(a, shape: Shape(a.count), name: "a"),
                                         b: try backend.upload(b, shape: Shape(b.count), name: "b"), c: ct)
                        return try backend.download(ct)
                    }
                    let before = cl.counters
                    let got = try run(cl)
                    let used = cl.counters.since(before)
                    XCTAssertEqual(used.clblastCalls, 2, "one strided-batched GEMM over the full slices, one for the rest")
                    XCTAssertEqual(used.launches, 1, "one finishing pass")
                    assertClose(got, try run(cpu), rel: 1e-5, "split-K gemm transA \(transA) transB \(transB) beta \(beta)")
                }
            }
        }
    }

    func testSlicesDivideKWhenADivisorIsNear() throws {
        for (m, n, k) in [(48, 1296, 18432), (48, 96, 884_736), (12, 324, 9216 * 3)] {
            let s = try XCTUnwrap(SplitK(m: m, n: n, k: k))
            XCTAssertEqual(s.slices * s.length, k, "\(m)x\(n)x\(k): \(s) leaves a remainder")
        }
    }

    /// A sum of GEMMs (a weight gradient over column slabs) equals the CPU's GEMMs with beta = 1 one after the other;
    /// every product's slices go to one buffer, finished once, or once per buffer-full.
    func testGemmSumMatchesCPUAndFinishesOncePerBufferFull() throws {
        let cl = try TestBackends.openCL()
        let cpu = CPUBackend()
        let (m, n, ldc, cOffset) = (3, 5, 7, 2)
        let ks = [1500, 2048, 1100]
        var r = TestRandom(seed: 44)
        let c0 = r.normals(cOffset + (m - 1) * ldc + n)
        let operands = ks.enumerated().map { i, k -> (GemmArgs, [Float], [Float]) in
            var g = GemmArgs(m: m, n: n, k: k, transA: i == 1, transB: i != 1)
            (g.ldc, g.cOffset) = (ldc, cOffset)
            let e = g.extents
            return (g, r.normals(e.a), r.normals(e.b))
        }
        func run(_ backend: Backend, capacity: Int?) throws -> [Float] {
            let c = try backend.upload(c0, shape: Shape(c0.count), name: "c")
            let sum: GemmSum = capacity.map { SplitKGemmSum(backend: backend as! OpenCLBackend, c: c, m: m, n: n, ldc: ldc,
                                                            cOffset: cOffset, capacity: $0) }
                ?? ImmediateGemmSum(backend: backend, c: c)
            for (g, a, b) in operands {
                try sum.add(g, a: try backend.upload(a, shape: Shape(a.count), name: "a"),
                            b: try backend.upload(b, shape: Shape(b.count), name: "b"))
            }
            try sum.finish()
            return try backend.download(c)
        }
        let expected = try run(cpu, capacity: nil)
        for (capacity, passes) in [(256, 1), (4, 2)] {   // 2 + 2 + 2 slices: one pass, or a flush before the third
            let before = cl.counters
            let got = try run(cl, capacity: capacity)
            XCTAssertEqual(cl.counters.since(before).launches, passes, "capacity \(capacity): finishing passes")
            assertClose(got, expected, rel: 1e-5, "GEMM sum, capacity \(capacity)")
        }
    }
}
