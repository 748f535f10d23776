import COpenCL

/// GEMM through CLBlast, called the way a GPU wants it:
/// - column-major with the operands swapped (row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ), so CLBlast never
///   transposes C (or B) through temporaries;
/// - single GEMMs through `CLBlastSgemmWithTempBuffer` with one pooled scratch buffer, so no call allocates;
/// - a long k (weight gradients, where k counts voxels) split into slices (`SplitK`): one strided-batched GEMM
///   writes a partial product per slice, `gemm_splitk_sum` (kernels/gemm.cl) adds them. That gives a GPU
///   slices × tiles work-groups instead of a few, and float32 sums of ~1k terms instead of ~100k.
extension OpenCLBackend {
    /// C = alpha · op(A) · op(B) + beta · C, row-major, strided-batched when `batch > 1`.
    public func gemm(_ g: GemmArgs, a: Tensor, b: Tensor, c: Tensor) throws {
        guard g.m > 0, g.n > 0 else { return }
        if g.k == 0 {
            // CLBlast rejects k = 0; C = beta·C is what BLAS defines.
            guard g.beta != 1 else { return }
            throw ShapeError(op: "gemm", "k = 0 with beta = \(g.beta) is not supported on OpenCL")
        }
        if g.batch == 1, let split = SplitK(m: g.m, n: g.n, k: g.k) {
            try splitKGemm(g, split, a: a, b: b, c: c)
        } else {
            try clblastGemm(g, a: a, b: b, c: c)
        }
    }

    /// partials (slices, m, n) = alpha · op(A)[:, slice] · op(B)[slice, :]; then C = Σ partials + beta·C.
    private func splitKGemm(_ g: GemmArgs, _ split: SplitK, a: Tensor, b: Tensor, c: Tensor) throws {
        let partials = try allocate(Shape(split.slices, g.m, g.n), name: "split-K partial products")
        // Moving one slice along k: A's columns (rows when transposed), B's rows (columns when transposed).
        let aStep = g.transA ? split.length * g.lda : split.length
        let bStep = g.transB ? split.length : split.length * g.ldb
        var slice = g
        slice.beta = 0
        slice.ldc = g.n
        slice.cOffset = 0
        let full = g.k / split.length
        if full > 0 {
            slice.k = split.length
            slice.batch = full
            (slice.strideA, slice.strideB, slice.strideC) = (aStep, bStep, g.m * g.n)
            try clblastGemm(slice, a: a, b: b, c: partials)
        }
        if g.k % split.length != 0 {
            slice.k = g.k % split.length
            slice.batch = 1
            slice.aOffset = g.aOffset + full * aStep
            slice.bOffset = g.bOffset + full * bStep
            slice.cOffset = full * g.m * g.n
            try clblastGemm(slice, a: a, b: b, c: partials)
        }
        try launch(.gemm_splitk_sum, global: g.m * g.n,
                   [.buffer(partials), .buffer(c), .int(split.slices), .int(g.m), .int(g.n), .int(g.cOffset),
                    .int(g.ldc), .float(g.beta)])
    }

    /// One CLBlast call: column-major, operands swapped.
    private func clblastGemm(_ g: GemmArgs, a: Tensor, b: Tensor, c: Tensor) throws {
        let am = try mem(a, "gemm"), bm = try mem(b, "gemm"), cm = try mem(c, "gemm")
        let ta = g.transA ? CLBlastTransposeYes : CLBlastTransposeNo
        let tb = g.transB ? CLBlastTransposeYes : CLBlastTransposeNo
        let layout = CLBlastLayoutColMajor
        var queue: cl_command_queue? = handle.queue
        let scratch = g.batch == 1 ? try gemmScratch(g, ta, tb) : nil
        // CLBlast's event is its last kernel's; a marker before the call lets the profile span all of them.
        var marker: cl_event?
        if profiler != nil {
            let (m, n, k, b) = (Double(g.m), Double(g.n), Double(g.k), Double(g.batch))
            account("gemm (CLBlast)", KernelCost(flops: 2 * m * n * k * b, bytes: 4 * b * (m * k + k * n + m * n * (g.beta == 0 ? 1 : 2))),
                    gemm: true)
            try check(clEnqueueMarkerWithWaitList(handle.queue, 0, nil, &marker), "clEnqueueMarkerWithWaitList")
        }
        var spanRecorded = false
        defer { if !spanRecorded, let marker { clReleaseEvent(marker) } }
        var event: cl_event?
        let status: CLBlastStatusCode = withUnsafeMutablePointer(to: &event) { ev in
            let e: UnsafeMutablePointer<cl_event?>? = profiler == nil ? nil : ev
            if g.batch == 1 {
                return CLBlastSgemmWithTempBuffer(layout, tb, ta, g.n, g.m, g.k, g.alpha, bm, g.bOffset, g.ldb,
                                                  am, g.aOffset, g.lda, g.beta, cm, g.cOffset, g.ldc, &queue, e,
                                                  scratch)
            }
            return CLBlastSgemmStridedBatched(layout, tb, ta, g.n, g.m, g.k, g.alpha,
                                              bm, g.bOffset, g.ldb, g.strideB, am, g.aOffset, g.lda, g.strideA,
                                              g.beta, cm, g.cOffset, g.ldc, g.strideC, g.batch, &queue, e)
        }
        tally.clblastCalls += 1
        if status != CLBlastSuccess {
            throw OpenCLError(code: status.rawValue, call: g.batch == 1 ? "CLBlastSgemm" : "CLBlastSgemmStridedBatched",
                              kernel: "\(g.m)x\(g.n)x\(g.k) batch \(g.batch)")
        }
        if let profiler, let event, let marker {
            profiler.recordSpan(g.batch == 1 ? "clblast_sgemm" : "clblast_sgemm_strided_batched", from: marker, to: event)
            spanRecorded = true
        }
    }

    /// The pooled buffer CLBlast's indirect GEMM pads its operands into (nil when this call needs none).
    private func gemmScratch(_ g: GemmArgs, _ ta: CLBlastTranspose, _ tb: CLBlastTranspose) throws -> cl_mem? {
        var queue: cl_command_queue? = handle.queue
        var bytes = 0
        let status = CLBlastSGemmTempBufferSize(CLBlastLayoutColMajor, tb, ta, g.n, g.m, g.k, g.bOffset, g.ldb,
                                                g.aOffset, g.lda, g.cOffset, g.ldc, &queue, &bytes)
        guard status == CLBlastSuccess else {
            throw OpenCLError(code: status.rawValue, call: "CLBlastSGemmTempBufferSize", kernel: "\(g.m)x\(g.n)x\(g.k)")
        }
        guard bytes > 0 else { return nil }
        if (gemmScratchTensor?.count ?? 0) * 4 < bytes {
            gemmScratchTensor = nil
            gemmScratchTensor = try allocate(Shape((bytes + 3) / 4), name: "GEMM scratch")
        }
        return try mem(gemmScratchTensor!, "gemm")
    }
}

/// How a long-k GEMM is cut: `slices` partial products over `length` values of k each (the last one shorter).
/// Slices of ~1k keep float32 sums short; the partial products stay within a 32 MiB budget.
struct SplitK: Equatable {
    let length: Int, slices: Int

    static let minimumK = 4096, targetLength = 1024, maxSlices = 256, budgetFloats = 1 << 23

    init?(m: Int, n: Int, k: Int) {
        guard k >= Self.minimumK else { return nil }
        let wanted = min(Self.maxSlices, (k + Self.targetLength - 1) / Self.targetLength, Self.budgetFloats / max(m * n, 1))
        guard wanted >= 2 else { return nil }
        length = (k + wanted - 1) / wanted
        slices = (k + length - 1) / length
    }
}
