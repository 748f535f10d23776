// GEMM-based ops: matmul, batched matmul, Linear.
extension Backend {
    /// C = op(A) · op(B) for rank-2 tensors. A: (M, K) or (K, M) when transposed; B: (K, N) or (N, K).
    public func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) throws -> Tensor {
        try bmm(a, b, transA: transA, transB: transB)
    }

    /// Batched: A (B, M, K), B (B, K, N) → (B, M, N); rank 2 operands are a batch of one.
    public func bmm(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) throws -> Tensor {
        let op = "matmul"
        try Check.that(a.shape.rank == b.shape.rank && (a.shape.rank == 2 || a.shape.rank == 3), op,
                       "operands must both be rank 2 or 3, got \(a.shape) and \(b.shape)")
        let batched = a.shape.rank == 3
        let batch = batched ? a.shape[0] : 1
        try Check.that(!batched || b.shape[0] == batch, op, "batch sizes differ: \(a.shape) and \(b.shape)")
        let (ra, ca) = (a.shape[-2], a.shape[-1]), (rb, cb) = (b.shape[-2], b.shape[-1])
        let (m, k) = transA ? (ca, ra) : (ra, ca)
        let (k2, n) = transB ? (cb, rb) : (rb, cb)
        try Check.that(k == k2, op, "inner sizes differ: \(a.name) \(a.shape)\(transA ? "ᵀ" : "") · \(b.name) \(b.shape)\(transB ? "ᵀ" : "")")
        let c = try allocate(batched ? Shape(batch, m, n) : Shape(m, n), name: "matmul output")
        var g = GemmArgs(m: m, n: n, k: k, transA: transA, transB: transB)
        g.batch = batch
        g.strideA = ra * ca; g.strideB = rb * cb; g.strideC = m * n
        try gemm(g, a: a, b: b, c: c)
        return c
    }

    /// Gradients of C = op(A)·op(B): (dA, dB) with A's and B's shapes.
    public func bmmBackward(_ a: Tensor, _ b: Tensor, dc: Tensor, transA: Bool = false, transB: Bool = false)
        throws -> (da: Tensor, db: Tensor)
    {
        let da = transA ? try bmm(b, dc, transA: transB, transB: true) : try bmm(dc, b, transA: false, transB: !transB)
        let db = transB ? try bmm(dc, a, transA: true, transB: transA) : try bmm(a, dc, transA: !transA, transB: false)
        return (da, db)
    }

    /// y = x · Wᵀ + b. x: (..., in), W: (out, in), b: (out) → (..., out).
    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        try Check.rank(weight, 2, "linear", "weight (out, in)")
        let (out, inF) = (weight.shape[0], weight.shape[1])
        try Check.that(x.shape.rank >= 1 && x.shape[-1] == inF, "linear",
                       "\(x.name) \(x.shape) has last axis ≠ in_features \(inF) of \(weight.name) \(weight.shape)")
        let rows = x.count / max(inF, 1)
        let y = try allocate(x.shape.replacing(axis: -1, with: out), name: "linear output")
        try gemm(GemmArgs(m: rows, n: out, k: inF, transB: true), a: x, b: weight, c: y)
        if let bias {
            try Check.shape(bias, Shape(out), "linear")
            try broadcastAdd(y: y, src: bias, dims: Dims3(rows, out, 1), along: .middle)
        }
        return y
    }

    /// (dx, dW, db) for `linear`, each written where `dx`, `dw`, `db` say (nil where skipped).
    public func linearBackward(_ x: Tensor, weight: Tensor, dy: Tensor, dx dxOut: GradientOutput = .new,
                               dw dwOut: GradientOutput = .new, db dbOut: GradientOutput = .new) throws
        -> (dx: Tensor?, dw: Tensor?, db: Tensor?)
    {
        let (out, inF) = (weight.shape[0], weight.shape[1])
        try Check.shape(dy, x.shape.replacing(axis: -1, with: out), "linear backward")
        let rows = x.count / max(inF, 1)
        let dx = try dxOut.target(x.shape, name: "linear dx", on: self)
        if let dx {
            try gemm(GemmArgs(m: rows, n: inF, k: out, beta: dxOut.accumulates ? 1 : 0), a: dy, b: weight, c: dx)
        }
        let dw = try dwOut.target(weight.shape, name: "linear dW", on: self)
        if let dw {
            try gemm(GemmArgs(m: out, n: inF, k: rows, transA: true, beta: dwOut.accumulates ? 1 : 0), a: dy, b: x, c: dw)
        }
        let db = try dbOut.target(Shape(out), name: "linear db", on: self)
        if let db { try sumKeepingMiddle(dy, dims: Dims3(rows, out, 1), into: db, accumulate: dbOut.accumulates) }
        return (dx, dw, db)
    }
}
