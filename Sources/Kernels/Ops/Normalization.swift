// LayerNorm, InstanceNorm3d and BatchNorm2d over the shared norm kernels (kernels/norm.cl).

/// What a normalisation forward keeps for its backward.
public struct NormCache {
    public let mean: Tensor   // (B) per normalised group
    public let rstd: Tensor   // (B) 1/sqrt(var + eps)
    /// Statistics were constants (BatchNorm in eval mode), not functions of x.
    public let constantStats: Bool
    /// The activation fused after the normalisation (its derivative is folded into the backward).
    public var activation: FusedActivation = .none
}

/// BatchNorm2d's running statistics, updated in place in training mode (PyTorch semantics).
public struct RunningStats {
    public let mean: Tensor       // (C)
    public let variance: Tensor   // (C) unbiased
    public init(mean: Tensor, variance: Tensor) { self.mean = mean; self.variance = variance }
}

extension Backend {
    private func normForward(_ x: Tensor, dims: Dims3, eps: Float, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                             activation: FusedActivation = .none, op: String) throws
        -> (y: Tensor, cache: NormCache, variance: Tensor)
    {
        try Check.that((gamma == nil) == (beta == nil), op, "weight and bias must be given together")
        try Check.that(activation == .none || gamma == nil, op, "a fused activation needs a non-affine normalisation")
        let mean = try allocate(Shape(dims.mid), name: "\(op) mean")
        let variance = try allocate(Shape(dims.mid), name: "\(op) var")
        let rstd = try allocate(Shape(dims.mid), name: "\(op) rstd")
        let y = try allocate(x.shape, name: "\(op) output")
        try normalize(x: x, dims: dims, eps: eps, affine: gamma == nil ? .none : affine, gamma: gamma, beta: beta,
                      activation: activation, mean: mean, variance: variance, rstd: rstd, y: y)
        return (y, NormCache(mean: mean, rstd: rstd, constantStats: false, activation: activation), variance)
    }

    /// dx of a normalisation, written where `target` says (a new tensor, or added into an existing gradient).
    private func normBackwardInput(_ x: Tensor, dy: Tensor, cache: NormCache, dims: Dims3, affine: NormAffine,
                                   gamma: Tensor?, target: GradientOutput, op: String) throws -> Tensor? {
        try Check.same(x, dy, op)
        guard let dx = try target.target(x.shape, name: "\(op) dx", on: self) else { return nil }
        let s1 = try allocate(Shape(dims.mid), name: "\(op) s1"), s2 = try allocate(Shape(dims.mid), name: "\(op) s2")
        try normBackward(x: x, mean: cache.mean, rstd: cache.rstd, affine: affine, gamma: gamma, activation: cache.activation,
                         dy: dy, dims: dims, constantStats: cache.constantStats, s1: s1, s2: s2, dx: dx,
                         accumulate: target.accumulates)
        return dx
    }

    /// Per-row affine gradients: (dgamma, dbeta) of length `groups`, folding rows b with b % groups, written where
    /// `dgamma` and `dbeta` say.
    private func rowParamGrads(_ x: Tensor, dy: Tensor, cache: NormCache, dims: Dims3, groups: Int, op: String,
                               dgamma gOut: GradientOutput, dbeta bOut: GradientOutput) throws -> (dgamma: Tensor?, dbeta: Tensor?)
    {
        guard gOut.isNeeded || bOut.isNeeded else { return (nil, nil) }
        let sDy = try allocate(Shape(dims.mid), name: "\(op) Σdy"), sDyX = try allocate(Shape(dims.mid), name: "\(op) Σdy·x̂")
        try normBackwardSums(x: x, mean: cache.mean, rstd: cache.rstd, affine: .none, gamma: nil, activation: .none,
                             dy: dy, dims: dims, s1: sDy, s2: sDyX)
        let fold = Dims3(dims.mid / groups, groups, 1)
        let dgamma = try gOut.target(Shape(groups), name: "\(op) dweight", on: self)
        let dbeta = try bOut.target(Shape(groups), name: "\(op) dbias", on: self)
        if let dgamma { try reduceSum(x: sDyX, dims: fold, keep: .middle, y: dgamma, accumulate: gOut.accumulates) }
        if let dbeta { try reduceSum(x: sDy, dims: fold, keep: .middle, y: dbeta, accumulate: bOut.accumulates) }
        return (dgamma, dbeta)
    }

    // MARK: LayerNorm over the last axis

    /// x: (..., F), gamma/beta: (F) or nil (MONAI's non-affine `proj_out` norm).
    public func layerNorm(_ x: Tensor, gamma: Tensor?, beta: Tensor?, eps: Float = 1e-5) throws -> (y: Tensor, cache: NormCache) {
        try Check.that(x.shape.rank >= 1, "layerNorm", "\(x.name) needs a feature axis")
        let f = x.shape[-1]
        if let gamma { try Check.shape(gamma, Shape(f), "layerNorm") }
        if let beta { try Check.shape(beta, Shape(f), "layerNorm") }
        let r = try normForward(x, dims: Dims3(1, x.count / max(f, 1), f), eps: eps, affine: .perColumn,
                                gamma: gamma, beta: beta, op: "layerNorm")
        return (r.y, r.cache)
    }

    /// (dx, dgamma, dbeta), each written where `dx`, `dgamma`, `dbeta` say (nil where skipped or without gamma).
    public func layerNormBackward(_ x: Tensor, gamma: Tensor?, cache: NormCache, dy: Tensor, dx dxOut: GradientOutput = .new,
                                  dgamma gOut: GradientOutput = .new, dbeta bOut: GradientOutput = .new) throws
        -> (dx: Tensor?, dgamma: Tensor?, dbeta: Tensor?)
    {
        let f = x.shape[-1]
        let dims = Dims3(1, x.count / max(f, 1), f)
        let dx = try normBackwardInput(x, dy: dy, cache: cache, dims: dims, affine: .perColumn, gamma: gamma, target: dxOut,
                                       op: "layerNorm")
        guard gamma != nil, gOut.isNeeded || bOut.isNeeded else { return (dx, nil, nil) }
        // One kernel writes both (a skipped one into scratch); when either adds into a slot, the other starts at 0.
        let accumulate = gOut.accumulates || bOut.accumulates
        func buffer(_ o: GradientOutput, _ name: String) throws -> Tensor {
            let o = o.isNeeded ? o : .new
            return try (accumulate ? o.zeroedTarget(Shape(f), name: name, on: self) : o.target(Shape(f), name: name, on: self))!
        }
        let dg = try buffer(gOut, "layerNorm dweight"), db = try buffer(bOut, "layerNorm dbias")
        try normColumnParamGrads(x: x, mean: cache.mean, rstd: cache.rstd, dy: dy, dims: dims, dgamma: dg, dbeta: db,
                                 accumulate: accumulate)
        return (dx, gOut.isNeeded ? dg : nil, bOut.isNeeded ? db : nil)
    }

    // MARK: InstanceNorm (3d or any spatial rank): per (n, c) over the spatial axes

    /// x: (N, C, ...spatial), gamma/beta: (C) or nil (MONAI's UNETR blocks use affine = False); `activation` fused
    /// after (non-affine only: MONAI's InstanceNorm → LeakyReLU).
    public func instanceNorm(_ x: Tensor, gamma: Tensor?, beta: Tensor?, eps: Float = 1e-5,
                             activation: FusedActivation = .none) throws -> (y: Tensor, cache: NormCache) {
        let (dims, c) = try instanceDims(x, gamma, beta)
        let r = try normForward(x, dims: dims, eps: eps, affine: .perRow(groups: c), gamma: gamma, beta: beta,
                                activation: activation, op: "instanceNorm")
        return (r.y, r.cache)
    }

    /// (dx, dgamma, dbeta), each written where `dx`, `dgamma`, `dbeta` say (nil where skipped or without gamma).
    public func instanceNormBackward(_ x: Tensor, gamma: Tensor?, cache: NormCache, dy: Tensor,
                                     dx dxOut: GradientOutput = .new, dgamma gOut: GradientOutput = .new,
                                     dbeta bOut: GradientOutput = .new) throws -> (dx: Tensor?, dgamma: Tensor?, dbeta: Tensor?)
    {
        let (dims, c) = try instanceDims(x, gamma, nil)
        let dx = try normBackwardInput(x, dy: dy, cache: cache, dims: dims, affine: .perRow(groups: c), gamma: gamma,
                                       target: dxOut, op: "instanceNorm")
        guard gamma != nil else { return (dx, nil, nil) }
        let g = try rowParamGrads(x, dy: dy, cache: cache, dims: dims, groups: c, op: "instanceNorm", dgamma: gOut, dbeta: bOut)
        return (dx, g.dgamma, g.dbeta)
    }

    private func instanceDims(_ x: Tensor, _ gamma: Tensor?, _ beta: Tensor?) throws -> (Dims3, Int) {
        try Check.that(x.shape.rank >= 3, "instanceNorm", "\(x.name) must be (N, C, spatial...), got \(x.shape)")
        let (n, c) = (x.shape[0], x.shape[1])
        let s = x.count / max(n * c, 1)
        try Check.that(s > 1, "instanceNorm", "expected more than 1 spatial element, got \(x.shape)")
        if let gamma { try Check.shape(gamma, Shape(c), "instanceNorm") }
        if let beta { try Check.shape(beta, Shape(c), "instanceNorm") }
        return (Dims3(1, n * c, s), c)
    }

    // MARK: BatchNorm2d: per channel over (N, H, W)

    /// x: (N, C, H, W). Training: batch statistics (biased variance) and running stats updated with
    /// `momentum` (unbiased variance), as torch.nn.BatchNorm2d. Eval: the running statistics.
    public func batchNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, running: RunningStats, training: Bool,
                          momentum: Float = 0.1, eps: Float = 1e-5) throws -> (y: Tensor, cache: NormCache) {
        let op = "batchNorm"
        try Check.that(x.shape.rank >= 2, op, "\(x.name) must be (N, C, ...), got \(x.shape)")
        let (n, c) = (x.shape[0], x.shape[1])
        let dims = Dims3(n, c, x.count / max(n * c, 1))
        for t in [gamma, beta, running.mean, running.variance] { try Check.shape(t, Shape(c), op) }
        if training {
            let m = dims.outer * dims.inner
            try Check.that(m > 1, op, "expected more than 1 value per channel when training, got \(x.shape)")
            let r = try normForward(x, dims: dims, eps: eps, affine: .perRow(groups: c), gamma: gamma, beta: beta, op: op)
            // running = (1 − momentum)·running + momentum·batch (unbiased variance)
            try unary(.scale(1 - momentum), x: running.mean, y: running.mean)
            try axpy(alpha: momentum, x: r.cache.mean, y: running.mean)
            try unary(.scale(1 - momentum), x: running.variance, y: running.variance)
            try axpy(alpha: momentum * Float(m) / Float(m - 1), x: r.variance, y: running.variance)
            return (r.y, r.cache)
        }
        let rstd = try apply(.rsqrt(epsilon: eps), running.variance)
        let mean = try copy(running.mean, name: "\(op) mean")
        let y = try allocate(x.shape, name: "\(op) output")
        try normApply(x: x, mean: mean, rstd: rstd, affine: .perRow(groups: c), gamma: gamma, beta: beta, activation: .none,
                      dims: dims, y: y)
        return (y, NormCache(mean: mean, rstd: rstd, constantStats: true))
    }

    /// (dx, dgamma, dbeta), each written where `dx`, `dgamma`, `dbeta` say (nil where skipped).
    public func batchNormBackward(_ x: Tensor, gamma: Tensor, cache: NormCache, dy: Tensor, dx dxOut: GradientOutput = .new,
                                  dgamma gOut: GradientOutput = .new, dbeta bOut: GradientOutput = .new) throws
        -> (dx: Tensor?, dgamma: Tensor?, dbeta: Tensor?)
    {
        let (n, c) = (x.shape[0], x.shape[1])
        let dims = Dims3(n, c, x.count / max(n * c, 1))
        let dx = try normBackwardInput(x, dy: dy, cache: cache, dims: dims, affine: .perRow(groups: c), gamma: gamma,
                                       target: dxOut, op: "batchNorm")
        let g = try rowParamGrads(x, dy: dy, cache: cache, dims: dims, groups: c, op: "batchNorm", dgamma: gOut, dbeta: bOut)
        return (dx, g.dgamma, g.dbeta)
    }
}
