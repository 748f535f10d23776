// Launchers for kernels/norm.cl.
extension OpenCLBackend {
    private func sizes(_ d: Dims3) -> [Arg] { [.int(d.outer), .int(d.mid), .int(d.inner)] }

    /// Kernels read gamma/beta only when `affine != .none`; pass a stand-in buffer otherwise.
    private func affineArgs(_ affine: NormAffine, _ t: Tensor?, _ fallback: Tensor) -> Arg {
        .buffer(affine == .none ? fallback : (t ?? fallback))
    }

    /// G slices per statistic (ReductionSplit); two-stage when G > 1.
    private func slices(_ dims: Dims3) -> Int {
        ReductionSplit.groupSlices(outputs: dims.mid, length: dims.outer * dims.inner, groupSize: reductionGroupSize)
    }

    private func activationArgs(_ a: FusedActivation) -> [Arg] { [.int(Int(a.code)), .float(a.slope)] }

    /// One kernel (statistics, then apply) where one work-group takes a whole group; else the two-stage statistics
    /// and an apply pass.
    public func normalize(x: Tensor, dims: Dims3, eps: Float, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                          activation: FusedActivation, mean: Tensor, variance: Tensor, rstd: Tensor, y: Tensor) throws {
        let G = slices(dims)
        let mode = gamma == nil ? NormAffine.none : affine
        guard G > 1 else {
            return try launch(.norm_forward, global: dims.mid * reductionGroupSize, local: reductionGroupSize,
                              cost: KernelCost(flops: 6 * Double(dims.count), bytes: 8 * Double(dims.count)),
                              [.buffer(x), .buffer(mean), .buffer(variance), .buffer(rstd), affineArgs(mode, gamma, x),
                               affineArgs(mode, beta, x), .buffer(y)] + sizes(dims)
                              + [.float(eps), .int(Int(mode.code)), .int(mode.groups)] + activationArgs(activation))
        }
        let partials = try allocate(Shape(dims.mid, G, 2), name: "normalisation statistics partials")
        try launch(.norm_stats_partial, global: dims.mid * G * reductionGroupSize, local: reductionGroupSize,
                   cost: KernelCost(flops: 3 * Double(dims.count), bytes: 4 * Double(dims.count)),
                   [.buffer(x), .buffer(partials)] + sizes(dims) + [.int(G)])
        try launch(.norm_stats_finish, global: dims.mid, finishing: dims.mid * G * 2,
                   [.buffer(partials), .buffer(mean), .buffer(variance), .buffer(rstd), .int(dims.outer * dims.inner),
                    .int(dims.mid), .int(G), .float(eps)])
        try normApply(x: x, mean: mean, rstd: rstd, affine: affine, gamma: gamma, beta: beta, activation: activation,
                      dims: dims, y: y)
    }

    public func normApply(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                          activation: FusedActivation, dims: Dims3, y: Tensor) throws {
        try launch(.norm_apply, global: dims.count,
                   [.buffer(x), .buffer(mean), .buffer(rstd), affineArgs(affine, gamma, x), affineArgs(affine, beta, x),
                    .buffer(y)] + sizes(dims) + [.int(Int(affine.code)), .int(affine.groups)] + activationArgs(activation))
    }

    public func normBackwardSums(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                                 activation: FusedActivation, dy: Tensor, dims: Dims3, s1: Tensor, s2: Tensor) throws {
        let mode = gamma == nil ? NormAffine.none : affine
        let G = slices(dims)
        let (p1, p2) = G > 1 ? (try allocate(Shape(dims.mid, G), name: "normalisation backward partials s1"),
                                try allocate(Shape(dims.mid, G), name: "normalisation backward partials s2")) : (s1, s2)
        try launch(.norm_backward_sums, global: dims.mid * G * reductionGroupSize, local: reductionGroupSize,
                   cost: KernelCost(flops: 5 * Double(dims.count), bytes: 8 * Double(dims.count)),
                   [.buffer(x), .buffer(mean), .buffer(rstd), affineArgs(mode, gamma, x), .buffer(dy), .buffer(p1),
                    .buffer(p2)] + sizes(dims) + [.int(Int(mode.code)), .int(mode.groups), .int(G)] + activationArgs(activation))
        if G > 1 {
            try launch(.norm_backward_sums_finish, global: dims.mid, finishing: dims.mid * G * 2,
                       [.buffer(p1), .buffer(p2), .buffer(s1), .buffer(s2), .int(dims.mid), .int(G)])
        }
    }

    /// One kernel (sums, then dx) where one work-group takes a whole group; else the two-stage sums and a dx pass.
    public func normBackward(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                             activation: FusedActivation, dy: Tensor, dims: Dims3, constantStats: Bool, s1: Tensor,
                             s2: Tensor, dx: Tensor, accumulate: Bool) throws {
        let mode = gamma == nil ? NormAffine.none : affine
        if !constantStats && slices(dims) == 1 {
            return try launch(.norm_backward, global: dims.mid * reductionGroupSize, local: reductionGroupSize,
                              cost: KernelCost(flops: 10 * Double(dims.count), bytes: 12 * Double(dims.count)),
                              [.buffer(x), .buffer(mean), .buffer(rstd), affineArgs(mode, gamma, x), .buffer(dy),
                               .buffer(s1), .buffer(s2), .buffer(dx)] + sizes(dims)
                              + [.int(Int(mode.code)), .int(mode.groups)] + activationArgs(activation)
                              + [.float(accumulate ? 1 : 0)])
        }
        if !constantStats {
            try normBackwardSums(x: x, mean: mean, rstd: rstd, affine: affine, gamma: gamma, activation: activation,
                                 dy: dy, dims: dims, s1: s1, s2: s2)
        }
        try normBackwardInput(x: x, mean: mean, rstd: rstd, affine: affine, gamma: gamma, activation: activation, dy: dy,
                              s1: s1, s2: s2, dims: dims, constantStats: constantStats, dx: dx, accumulate: accumulate)
    }

    private func normBackwardInput(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                                   activation: FusedActivation, dy: Tensor, s1: Tensor, s2: Tensor, dims: Dims3,
                                   constantStats: Bool, dx: Tensor, accumulate: Bool) throws {
        let mode = gamma == nil ? NormAffine.none : affine
        try launch(.norm_backward_input, global: dims.count,
                   [.buffer(x), .buffer(mean), .buffer(rstd), affineArgs(mode, gamma, x), .buffer(dy),
                    .buffer(s1), .buffer(s2), .buffer(dx)] + sizes(dims)
                   + [.int(Int(mode.code)), .int(mode.groups), .int(constantStats ? 1 : 0)] + activationArgs(activation)
                   + [.float(accumulate ? 1 : 0)])
    }

    public func normColumnParamGrads(x: Tensor, mean: Tensor, rstd: Tensor, dy: Tensor, dims: Dims3,
                                     dgamma: Tensor, dbeta: Tensor, accumulate: Bool) throws {
        let (B, C) = (dims.mid, dims.inner)
        let P = ReductionSplit.columnSlices(outputs: C, length: B)
        let beta: Float = accumulate ? 1 : 0
        let cost = KernelCost(flops: 5 * Double(B * C), bytes: 8 * Double(B * C) + 8 * Double(P * C))
        let args: [Arg] = [.buffer(x), .buffer(mean), .buffer(rstd), .buffer(dy)]
        guard P > 1 else {
            return try launch(.norm_column_param_grads, global: C, cost: cost,
                              args + [.buffer(dgamma), .buffer(dbeta), .int(B), .int(C), .int(1), .float(beta)])
        }
        let gpart = try allocate(Shape(P, C), name: "LayerNorm dgamma partials")
        let bpart = try allocate(Shape(P, C), name: "LayerNorm dbeta partials")
        try launch(.norm_column_param_grads, global: P * C, cost: cost,
                   args + [.buffer(gpart), .buffer(bpart), .int(B), .int(C), .int(P), .float(0)])
        // Both finished in one pass.
        try launch(.norm_column_param_finish, global: C, finishing: 2 * P * C,
                   [.buffer(gpart), .buffer(bpart), .buffer(dgamma), .buffer(dbeta), .int(P), .int(C), .float(beta)])
    }
}
