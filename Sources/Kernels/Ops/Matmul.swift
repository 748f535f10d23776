// GEMM-based ops: matmul, batched matmul, Linear.

/// Several GEMMs adding into one C (a convolution's weight gradient, column slab by column slab): `add` contributes
/// alpha·op(A)·op(B) (its m, n as C's; its beta and C placement are ignored), `finish` leaves C + the total in C. A
/// backend may keep partial products and add them in one pass (OpenCL's split-K across calls).
public protocol GemmSum: AnyObject {
    func add(_ g: GemmArgs, a: Tensor, b: Tensor) throws
    /// The products of `count` samples: `add` with A and B moved by `strideA` / `strideB` per sample.
    func addSamples(_ g: GemmArgs, count: Int, strideA: Int, strideB: Int, a: Tensor, b: Tensor) throws
    func finish() throws
}

extension GemmSum {
    public func addSamples(_ g: GemmArgs, count: Int, strideA: Int, strideB: Int, a: Tensor, b: Tensor) throws {
        try addEachSample(g, count: count, strideA: strideA, strideB: strideB, a: a, b: b)
    }

    /// `add` once per sample (the default `addSamples`, and the fallback of a backend's own).
    public func addEachSample(_ g: GemmArgs, count: Int, strideA: Int, strideB: Int, a: Tensor, b: Tensor) throws {
        for s in 0..<count {
            var one = g
            one.aOffset += s * strideA
            one.bOffset += s * strideB
            try add(one, a: a, b: b)
        }
    }
}

/// Each product added into C at once (GEMM with beta = 1): the CPU backend's sum, and short sums everywhere.
public final class ImmediateGemmSum: GemmSum {
    private let backend: Backend
    private let c: Tensor

    public init(backend: Backend, c: Tensor) {
        self.backend = backend
        self.c = c
    }

    public func add(_ g: GemmArgs, a: Tensor, b: Tensor) throws {
        var g = g
        g.beta = 1
        try backend.gemm(g, a: a, b: b, c: c)
    }

    public func finish() throws {}
}

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

    /// (rows, out) of x (..., in) · W (out, in)ᵀ, after the shape checks.
    private func linearSizes(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) throws -> (rows: Int, out: Int, inF: Int) {
        try Check.rank(weight, 2, "linear", "weight (out, in)")
        let (out, inF) = (weight.shape[0], weight.shape[1])
        try Check.that(x.shape.rank >= 1 && x.shape[-1] == inF, "linear",
                       "\(x.name) \(x.shape) has last axis ≠ in_features \(inF) of \(weight.name) \(weight.shape)")
        if let bias { try Check.shape(bias, Shape(out), "linear") }
        return (x.count / max(inF, 1), out, inF)
    }

    /// y = x · Wᵀ + b (+ residual). x: (..., in), W: (out, in), b: (out), residual: (..., out) → (..., out).
    /// With a residual (a transformer block's skip) the residual and the bias are written first and the GEMM adds
    /// into them: two launches for what would be three.
    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor? = nil) throws -> Tensor {
        let (rows, out, inF) = try linearSizes(x, weight, bias)
        let y = try allocate(x.shape.replacing(axis: -1, with: out), name: "linear output")
        if let residual {
            try Check.same(residual, y, "linear residual")
            if let bias {
                try broadcastAdd(y: y, base: residual, src: bias, dims: Dims3(rows, out, 1), along: .middle)
            } else {
                try copy(residual, into: y)
            }
            try gemm(GemmArgs(m: rows, n: out, k: inF, transB: true, beta: 1), a: x, b: weight, c: y)
            return y
        }
        try gemm(GemmArgs(m: rows, n: out, k: inF, transB: true), a: x, b: weight, c: y)
        if let bias { try broadcastAdd(y: y, base: nil, src: bias, dims: Dims3(rows, out, 1), along: .middle) }
        return y
    }

    /// (pre, y): pre = x · Wᵀ + b and y = f(pre), the bias and the activation in one pass after the GEMM (the MLP's
    /// Linear → GELU). f's backward reads pre.
    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor, activation: UnaryOp) throws -> (pre: Tensor, y: Tensor) {
        let (rows, out, inF) = try linearSizes(x, weight, bias)
        let pre = try allocate(x.shape.replacing(axis: -1, with: out), name: "linear output")
        try gemm(GemmArgs(m: rows, n: out, k: inF, transB: true), a: x, b: weight, c: pre)
        let y = try allocate(pre.shape, name: "\(activation) output")
        try biasUnary(activation, pre: pre, bias: bias, columns: out, y: y)
        return (pre, y)
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
