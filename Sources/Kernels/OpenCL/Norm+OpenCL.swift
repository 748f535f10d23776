// Launchers for kernels/norm.cl.
extension OpenCLBackend {
    private func sizes(_ d: Dims3) -> [Arg] { [.int(d.outer), .int(d.mid), .int(d.inner)] }

    /// Kernels read gamma/beta only when `affine != .none`; pass a stand-in buffer otherwise.
    private func affineArgs(_ affine: NormAffine, _ t: Tensor?, _ fallback: Tensor) -> Arg {
        .buffer(affine == .none ? fallback : (t ?? fallback))
    }

    public func normStats(x: Tensor, dims: Dims3, eps: Float, mean: Tensor, variance: Tensor, rstd: Tensor) throws {
        try launch(.norm_stats, global: dims.mid * reductionGroupSize, local: reductionGroupSize,
                   [.buffer(x), .buffer(mean), .buffer(variance), .buffer(rstd)] + sizes(dims) + [.float(eps)])
    }

    public func normApply(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                          dims: Dims3, y: Tensor) throws {
        try launch(.norm_apply, global: dims.count,
                   [.buffer(x), .buffer(mean), .buffer(rstd), affineArgs(affine, gamma, x), affineArgs(affine, beta, x),
                    .buffer(y)] + sizes(dims) + [.int(Int(affine.code)), .int(affine.groups)])
    }

    public func normBackwardSums(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                                 dy: Tensor, dims: Dims3, s1: Tensor, s2: Tensor) throws {
        let mode = gamma == nil ? NormAffine.none : affine
        try launch(.norm_backward_sums, global: dims.mid * reductionGroupSize, local: reductionGroupSize,
                   [.buffer(x), .buffer(mean), .buffer(rstd), affineArgs(mode, gamma, x), .buffer(dy),
                    .buffer(s1), .buffer(s2)] + sizes(dims) + [.int(Int(mode.code)), .int(mode.groups)])
    }

    public func normBackwardInput(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                                  dy: Tensor, s1: Tensor, s2: Tensor, dims: Dims3, constantStats: Bool,
                                  dx: Tensor) throws {
        let mode = gamma == nil ? NormAffine.none : affine
        try launch(.norm_backward_input, global: dims.count,
                   [.buffer(x), .buffer(mean), .buffer(rstd), affineArgs(mode, gamma, x), .buffer(dy),
                    .buffer(s1), .buffer(s2), .buffer(dx)] + sizes(dims)
                   + [.int(Int(mode.code)), .int(mode.groups), .int(constantStats ? 1 : 0)])
    }

    public func normColumnParamGrads(x: Tensor, mean: Tensor, rstd: Tensor, dy: Tensor, dims: Dims3,
                                     dgamma: Tensor, dbeta: Tensor) throws {
        try launch(.norm_column_param_grads, global: dims.inner,
                   [.buffer(x), .buffer(mean), .buffer(rstd), .buffer(dy), .buffer(dgamma), .buffer(dbeta),
                    .int(dims.mid), .int(dims.inner)])
    }
}
