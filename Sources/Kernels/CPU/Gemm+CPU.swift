import CBLAS

extension CPUBackend {
    /// OpenBLAS `cblas_sgemm`, once per batch entry.
    public func gemm(_ g: GemmArgs, a: Tensor, b: Tensor, c: Tensor) throws {
        let ap = try ptr(a, "gemm"), bp = try ptr(b, "gemm"), cp = try ptr(c, "gemm")
        guard g.m > 0, g.n > 0 else { return }
        for i in 0..<g.batch {
            if g.k == 0 {
                // BLAS leaves C untouched for k = 0 only when beta = 1; make it explicit.
                for r in 0..<g.m { for j in 0..<g.n { cp[g.cOffset + i * g.strideC + r * g.ldc + j] *= g.beta } }
                continue
            }
            cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
                        Int32(g.m), Int32(g.n), Int32(g.k), g.alpha,
                        ap + g.aOffset + i * g.strideA, Int32(g.lda),
                        bp + g.bOffset + i * g.strideB, Int32(g.ldb), g.beta,
                        cp + g.cOffset + i * g.strideC, Int32(g.ldc))
        }
    }
}
