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
}
