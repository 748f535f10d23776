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
        try splitKPartials(g, split, a: a, b: b, partials: partials, at: 0)
        try splitKSum(partials, slices: split.slices, g, c: c, beta: g.beta)
    }

    /// partials[first ..< first + split.slices] (each m × n) = alpha · op(A)[:, slice] · op(B)[slice, :]: one
    /// strided-batched GEMM over the full slices and one more for a shorter last slice.
    func splitKPartials(_ g: GemmArgs, _ split: SplitK, a: Tensor, b: Tensor, partials: Tensor, at first: Int) throws {
        // Moving one slice along k: A's columns (rows when transposed), B's rows (columns when transposed).
        let aStep = g.transA ? split.length * g.lda : split.length
        let bStep = g.transB ? split.length : split.length * g.ldb
        var slice = g
        slice.beta = 0
        slice.ldc = g.n
        slice.cOffset = first * g.m * g.n
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
            slice.cOffset = (first + full) * g.m * g.n
            try clblastGemm(slice, a: a, b: b, c: partials)
        }
    }

    /// C (g.m × g.n at g.cOffset, g.ldc) = Σ of the first `slices` partial products + beta·C: the finishing pass.
    /// Lanes per element: enough to span `ReductionSplit.fillWorkItems` work-items for a small C (kernels/gemm.cl).
    func splitKSum(_ partials: Tensor, slices: Int, _ g: GemmArgs, c: Tensor, beta: Float) throws {
        let elements = g.m * g.n
        let lanes = OpenCLBackend.lanes(for: elements, group: 64)
        try launch(.gemm_splitk_sum, global: (elements + 64 / lanes - 1) / (64 / lanes) * 64, local: 64,
                   cost: KernelCost(flops: Double(slices * elements), bytes: 4 * Double((slices + 2) * elements)),
                   finishing: slices * elements,
                   [.buffer(partials), .buffer(c), .int(slices), .int(g.m), .int(g.n), .int(g.cOffset),
                    .int(g.ldc), .float(beta), .int(lanes)])
    }

    /// Split-K partial products of every GEMM of the sum go to one buffer, finished in one pass (or one per
    /// buffer-full); a sum too short to split adds each product into C at once.
    public func beginGemmSum(into c: Tensor, m: Int, n: Int, ldc: Int, cOffset: Int, totalK: Int) throws -> GemmSum {
        guard SplitK(m: m, n: n, k: totalK) != nil else { return ImmediateGemmSum(backend: self, c: c) }
        return SplitKGemmSum(backend: self, c: c, m: m, n: n, ldc: ldc, cOffset: cOffset)
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

/// How a long-k GEMM is cut: `slices` partial products over `length` values of k each (the last one shorter
/// unless a length near the wanted one divides k: then no second GEMM for the rest). Slices of ~1k keep float32
/// sums short; the partial products stay within a 32 MiB budget.
struct SplitK: Equatable {
    let length: Int, slices: Int

    static let minimumK = 4096, targetLength = 1024, maxSlices = 256, budgetFloats = 1 << 23

    init?(m: Int, n: Int, k: Int) {
        let most = min(Self.maxSlices, Self.budgetFloats / max(m * n, 1))
        guard k >= Self.minimumK, most >= 2 else { return nil }
        self.init(k: k, most: most)
        guard slices >= 2 else { return nil }
    }

    /// At most `most` slices of about `targetLength`.
    init(k: Int, most: Int) {
        let wanted = max(1, min(most, (k + Self.targetLength - 1) / Self.targetLength))
        let near = (k + wanted - 1) / wanted
        length = Self.divisor(of: k, near: near, most: most) ?? near
        slices = (k + length - 1) / length
    }

    /// A divisor of k within half of `near` either side, the closest, that cuts k into 2...`most` slices.
    private static func divisor(of k: Int, near: Int, most: Int) -> Int? {
        guard most >= 2 else { return nil }
        for d in 0...(near / 2) {
            for l in [near + d, near - d] where l > 0 && k % l == 0 && (2...most).contains(k / l) { return l }
        }
        return nil
    }
}

/// A GEMM sum on OpenCL: the split-K partial products of each added GEMM go to one buffer (the budget's worth of
/// slices), and one `gemm_splitk_sum` adds them into C when the buffer is full or the sum is finished.
final class SplitKGemmSum: GemmSum {
    private let backend: OpenCLBackend
    private let c: Tensor
    private let shape: GemmArgs   // m, n, ldc, cOffset of C
    private let capacity: Int
    private var partials: Tensor?
    private var used = 0

    /// `capacity`: slices the partial buffer holds (default: the budget's worth, at most `SplitK.maxSlices`).
    init(backend: OpenCLBackend, c: Tensor, m: Int, n: Int, ldc: Int, cOffset: Int, capacity: Int? = nil) {
        self.backend = backend
        self.c = c
        var g = GemmArgs(m: m, n: n, k: 1)
        (g.ldc, g.cOffset) = (ldc, cOffset)
        shape = g
        self.capacity = capacity ?? max(2, min(SplitK.maxSlices, SplitK.budgetFloats / max(m * n, 1)))
    }

    func add(_ g: GemmArgs, a: Tensor, b: Tensor) throws {
        try Check.that(g.m == shape.m && g.n == shape.n && g.batch == 1, "gemm sum", "\(g.m)×\(g.n) added to a \(shape.m)×\(shape.n) sum")
        let split = SplitK(k: g.k, most: capacity)
        if used + split.slices > capacity { try flush() }
        if partials == nil {
            partials = try backend.allocate(Shape(capacity, shape.m, shape.n), name: "split-K partial products (sum)")
        }
        try backend.splitKPartials(g, split, a: a, b: b, partials: partials!, at: used)
        used += split.slices
    }

    func finish() throws {
        try flush()
        partials = nil
    }

    private func flush() throws {
        guard used > 0, let partials else { return }
        try backend.splitKSum(partials, slices: used, shape, c: c, beta: 1)
        used = 0
    }
}
