// Launchers for kernels/window_attention.cl.
extension OpenCLBackend {
    private func attentionArgs(_ a: WindowAttentionInputs) -> [Arg] {
        let g = a.geometry
        return ([g.batch] + g.size + [g.channels] + g.padded + g.window + g.shift
                + [a.heads, a.indexStride, a.region == nil ? 0 : 1]).map { .int($0) }
    }

    /// The common leading buffers: qkv, pad bias, table, index, region (the index stands in when unmasked).
    private func attentionBuffers(_ a: WindowAttentionInputs) -> [Arg] {
        [.buffer(a.qkv), .buffer(a.padBias), .buffer(a.table), .buffer(a.relIndex), .buffer(a.region ?? a.relIndex)]
    }

    private func checkHeadDim(_ a: WindowAttentionInputs, _ op: String) throws {
        try Check.that(a.headDim <= WindowAttentionInputs.maxHeadDim, op,
                       "head dimension \(a.headDim) exceeds the kernels' \(WindowAttentionInputs.maxHeadDim)")
    }

    public func windowAttentionForward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor) throws {
        try checkHeadDim(a, "window_attention_forward")
        try launch(.window_attention_forward, global: a.rows,
                   attentionBuffers(a) + [.buffer(y), .buffer(lse)] + attentionArgs(a))
    }

    public func windowAttentionBackward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor, dy: Tensor, dqkv: Tensor,
                                        dPadBias: Tensor, dBiasPerHead: Tensor) throws {
        try checkHeadDim(a, "window_attention_backward")
        let rowDot = try allocate(Shape(a.rows), name: "window attention dO·O")
        try launch(.window_attention_row_dot, global: a.rows, [.buffer(y), .buffer(dy), .buffer(rowDot)] + attentionArgs(a))
        let saved: [Arg] = [.buffer(dy), .buffer(lse), .buffer(rowDot)]
        try launch(.window_attention_backward_q, global: a.rows,
                   attentionBuffers(a) + saved + [.buffer(dqkv)] + attentionArgs(a))
        let padGrad = try allocate(Shape(a.rows, 2 * a.headDim), name: "window attention padded-key gradients")
        try launch(.window_attention_backward_kv, global: a.rows,
                   attentionBuffers(a) + saved + [.buffer(dqkv), .buffer(padGrad)] + attentionArgs(a))
        try launch(.window_attention_pad_grad, global: dPadBias.count,
                   [.buffer(padGrad), .buffer(dPadBias)] + attentionArgs(a))
        try launch(.window_attention_backward_bias, global: dBiasPerHead.count,
                   attentionBuffers(a) + saved + [.buffer(dBiasPerHead)] + attentionArgs(a))
    }
}
