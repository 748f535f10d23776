import COpenCL

extension OpenCLBackend {
    /// CLBlast SGEMM (row-major), strided-batched when `batch > 1`.
    public func gemm(_ g: GemmArgs, a: Tensor, b: Tensor, c: Tensor) throws {
        guard g.m > 0, g.n > 0 else { return }
        if g.k == 0 {
            // CLBlast rejects k = 0; C = beta·C is what BLAS defines.
            guard g.beta != 1 else { return }
            throw ShapeError(op: "gemm", "k = 0 with beta = \(g.beta) is not supported on OpenCL")
        }
        let am = try mem(a, "gemm"), bm = try mem(b, "gemm"), cm = try mem(c, "gemm")
        let ta = g.transA ? CLBlastTransposeYes : CLBlastTransposeNo
        let tb = g.transB ? CLBlastTransposeYes : CLBlastTransposeNo
        var queue: cl_command_queue? = handle.queue
        var event: cl_event?
        let eventPtr: UnsafeMutablePointer<cl_event?>? = nil
        let status: CLBlastStatusCode = withUnsafeMutablePointer(to: &event) { ev in
            let e = profiler == nil ? eventPtr : ev
            if g.batch == 1 {
                return CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, g.m, g.n, g.k, g.alpha, am, g.aOffset, g.lda,
                                    bm, g.bOffset, g.ldb, g.beta, cm, g.cOffset, g.ldc, &queue, e)
            }
            return CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, g.m, g.n, g.k, g.alpha,
                                              am, g.aOffset, g.lda, g.strideA, bm, g.bOffset, g.ldb, g.strideB,
                                              g.beta, cm, g.cOffset, g.ldc, g.strideC, g.batch, &queue, e)
        }
        let name = g.batch == 1 ? "clblast_sgemm" : "clblast_sgemm_strided_batched"
        if status != CLBlastSuccess {
            throw OpenCLError(code: status.rawValue, call: g.batch == 1 ? "CLBlastSgemm" : "CLBlastSgemmStridedBatched",
                              kernel: "\(g.m)x\(g.n)x\(g.k) batch \(g.batch)")
        }
        if let profiler, let event { try record(profiler, name, event) }
    }
}
