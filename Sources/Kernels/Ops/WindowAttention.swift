// Fused shifted-window multi-head self-attention (MONAI SwinUNETR v1 semantics).
//
// MONAI's block runs: norm1 → pad to a multiple of the window → roll by −shift → window_partition →
// qkv Linear → split heads → (q·scale)·kᵀ + relative position bias (+ −100 between shift regions) →
// softmax → ·v → merge heads → proj → window_reverse → roll by +shift → crop. The qkv Linear acts per
// token, so it commutes with the padding and the partition: SwinLiver applies it to the tokens as they
// are (B, D, H, W, C) and the fused op reads each window's q, k, v straight from that tensor. A token in
// the padding has qkv = the Linear's bias (zeros in, bias out), which the op takes as `padBias`.
// No per-window copy and no (N × N) score matrix reaches device memory: the forward keeps one row's
// running max and sum (the row's log-sum-exp is stored for the backward, which recomputes the scores).

/// Tensors and layout of one fused window-attention call.
public struct WindowAttentionInputs {
    /// (B, D, H, W, 3C): per token [3][heads][C / heads] — MONAI's reshape(b, n, 3, heads, hd).
    public let qkv: Tensor
    /// (3C): the q, k, v of a token in the padding (the qkv Linear's bias, or zeros without one).
    public let padBias: Tensor
    /// (T, heads) relative position bias table.
    public let table: Tensor
    /// MONAI's full-window relative_position_index, (indexStride, indexStride), integers as floats.
    public let relIndex: Tensor
    public let indexStride: Int
    /// Shift-mask region id of each token of each window (nW, N); nil for unshifted blocks.
    public let region: Tensor?
    /// Window layout; `geometry.channels` is C (not 3C).
    public let geometry: WindowGeometry
    public let heads: Int

    public init(qkv: Tensor, padBias: Tensor, table: Tensor, relIndex: Tensor, indexStride: Int, region: Tensor?,
                geometry: WindowGeometry, heads: Int) {
        self.qkv = qkv
        self.padBias = padBias
        self.table = table
        self.relIndex = relIndex
        self.indexStride = indexStride
        self.region = region
        self.geometry = geometry
        self.heads = heads
    }

    public var headDim: Int { geometry.channels / heads }
    /// MONAI's qk scale, head_dim^−0.5.
    public var scale: Float { 1 / Float(headDim).squareRoot() }
    /// Rows of the log-sum-exp: B·nW·heads·N.
    public var rows: Int { geometry.batch * geometry.windowsPerSample * heads * geometry.tokens }

    /// The largest head dimension the OpenCL kernels hold in registers (MAX_HD in window_attention.cl);
    /// the CPU reference has no such bound.
    public static let maxHeadDim = 64
}

extension Backend {
    private func check(_ a: WindowAttentionInputs, _ op: String) throws {
        let g = a.geometry, c = g.channels
        try Check.that(a.heads > 0 && c % a.heads == 0, op, "\(c) channels do not split into \(a.heads) heads")
        try Check.shape(a.qkv, Shape([g.batch] + g.size + [3 * c]), op)
        try Check.shape(a.padBias, Shape(3 * c), op)
        try Check.that(a.table.shape.rank == 2 && a.table.shape[1] == a.heads, op,
                       "\(a.table.name) \(a.table.shape) is not (T, \(a.heads))")
        try Check.that(a.indexStride >= g.tokens && a.relIndex.count == a.indexStride * a.indexStride, op,
                       "\(a.relIndex.name) \(a.relIndex.shape) does not cover \(g.tokens) tokens")
        if let r = a.region { try Check.shape(r, Shape(g.windowsPerSample, g.tokens), op) }
    }

    /// y (B, D, H, W, C) and lse (B·nW·heads·N) for qkv (B, D, H, W, 3C).
    public func windowAttention(_ a: WindowAttentionInputs) throws -> (y: Tensor, lse: Tensor) {
        try check(a, "windowAttention")
        let g = a.geometry
        let y = try allocate(Shape([g.batch] + g.size + [g.channels]), name: "window attention output")
        let lse = try allocate(Shape(a.rows), name: "window attention log-sum-exp")
        try windowAttentionForward(a, y: y, lse: lse)
        return (y, lse)
    }

    /// (dqkv, dPadBias, dBiasPerHead (heads, N·N)) of `windowAttention` for upstream dy; dPadBias written where
    /// `padBias` says (the qkv Linear's bias: skipped without one, added into its slot in a parameter arena).
    public func windowAttentionGradients(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor, dy: Tensor,
                                         padBias: GradientOutput = .new) throws
        -> (dqkv: Tensor, dPadBias: Tensor?, dBiasPerHead: Tensor)
    {
        try check(a, "windowAttention backward")
        try Check.shape(dy, y.shape, "windowAttention backward")
        let n = a.geometry.tokens
        let dqkv = try allocate(a.qkv.shape, name: "window attention dqkv")
        let dPad = try padBias.target(a.padBias.shape, name: "window attention dPadBias", on: self)
        let dBias = try allocate(Shape(a.heads, n * n), name: "window attention bias grad per head")
        try windowAttentionBackward(a, y: y, lse: lse, dy: dy, dqkv: dqkv, dPadBias: dPad, accumulatePad: padBias.accumulates,
                                    dBiasPerHead: dBias)
        return (dqkv, dPad, dBias)
    }
}
