import CBLAS
import Foundation

/// Products at least this large (m·n·k) are split into blocks across the cores.
private let splitThreshold = 1 << 20

extension CPUBackend {
    /// OpenBLAS `cblas_sgemm`, once per batch entry. OpenBLAS itself runs single-threaded (see
    /// `CPUBackend.init`): a large product is split into row blocks of C (or column blocks, when C is
    /// wider than tall), one OpenBLAS call per core. Each block sums over k in the same order whatever
    /// core runs it, so results do not depend on scheduling.
    public func beginGemmSum(into c: Tensor, m: Int, n: Int, ldc: Int, cOffset: Int, totalK: Int) throws -> GemmSum {
        ImmediateGemmSum(backend: self, c: c)
    }

    public func gemm(_ g: GemmArgs, a: Tensor, b: Tensor, c: Tensor) throws {
        let ap = try ptr(a, "gemm"), bp = try ptr(b, "gemm"), cp = try ptr(c, "gemm")
        guard g.m > 0, g.n > 0 else { return }
        for i in 0..<g.batch {
            let (A, B, C) = (ap + g.aOffset + i * g.strideA, bp + g.bOffset + i * g.strideB, cp + g.cOffset + i * g.strideC)
            if g.k == 0 {
                // BLAS leaves C untouched for k = 0 only when beta = 1; make it explicit.
                for r in 0..<g.m { for j in 0..<g.n { C[r * g.ldc + j] *= g.beta } }
                continue
            }
            let parts = g.m * g.n * g.k >= splitThreshold ? min(cores, max(g.m, g.n)) : 1
            let rows = g.m >= g.n
            parallelFor(parts) { p in
                let (lo, hi) = rows ? (p * g.m / parts, (p + 1) * g.m / parts) : (p * g.n / parts, (p + 1) * g.n / parts)
                guard hi > lo else { return }
                // Row block: A's rows lo..<hi (columns when A is transposed); column block: B's columns.
                let a = rows ? A + (g.transA ? lo : lo * g.lda) : A
                let b = rows ? B : B + (g.transB ? lo * g.ldb : lo)
                let c = C + (rows ? lo * g.ldc : lo)
                cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
                            Int32(rows ? hi - lo : g.m), Int32(rows ? g.n : hi - lo), Int32(g.k), g.alpha,
                            a, Int32(g.lda), b, Int32(g.ldb), g.beta, c, Int32(g.ldc))
            }
        }
    }
}
