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

    /// Flops of one pass over every (query row, key) pair doing `perPair` flops per head-dimension element, and the
    /// bytes of reading qkv and `extra` more token-sized (C) tensors once.
    private func attentionCost(_ a: WindowAttentionInputs, perPair: Double, extra: Double) -> KernelCost {
        let g = a.geometry, tokens = Double(g.batch * g.size.reduce(1, *))
        return KernelCost(flops: Double(a.rows) * Double(g.tokens) * (perPair * Double(a.headDim) + 6),
                          bytes: 4 * tokens * Double(g.channels) * (3 + extra) + 4 * Double(a.rows))
    }

    /// Work-groups of the row kernels (ATTN_WG in kernels/window_attention.cl).
    private static let rowGroup = 64

    /// Lanes per row (kernels/window_attention.cl): enough for a small stage to span a GPU's worth of work-items
    /// (at most 16, so each lane still takes a few keys), and the global size they need.
    private func rowLanes(_ a: WindowAttentionInputs) -> (lanes: Int, global: Int) {
        let lanes = OpenCLBackend.lanes(for: a.rows, group: 16)
        let g = Self.rowGroup
        return (lanes, (a.rows * lanes + g - 1) / g * g)
    }

    public func windowAttentionForward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor) throws {
        try checkHeadDim(a, "window_attention_forward")
        let (lanes, global) = rowLanes(a)
        try launch(.window_attention_forward, defines: .attention(a), global: global, local: Self.rowGroup,
                   cost: attentionCost(a, perPair: 4, extra: 1),
                   attentionBuffers(a) + [.buffer(y), .buffer(lse)] + attentionArgs(a) + [.int(lanes)])
    }

    public func windowAttentionBackward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor, dy: Tensor, dqkv: Tensor,
                                        dPadBias: Tensor?, accumulatePad: Bool, dBiasPerHead: Tensor) throws {
        try checkHeadDim(a, "window_attention_backward")
        let rowDot = try allocate(Shape(a.rows), name: "window attention dO·O")
        let (lanes, global) = rowLanes(a)
        try launch(.window_attention_row_dot, defines: .attention(a), global: global, local: Self.rowGroup,
                   [.buffer(y), .buffer(dy), .buffer(rowDot)] + attentionArgs(a) + [.int(lanes)])
        let saved: [Arg] = [.buffer(dy), .buffer(lse), .buffer(rowDot)]
        try launch(.window_attention_backward_q, defines: .attention(a), global: global, local: Self.rowGroup,
                   cost: attentionCost(a, perPair: 6, extra: 2),
                   attentionBuffers(a) + saved + [.buffer(dqkv)] + attentionArgs(a) + [.int(lanes)])
        let slots = try paddedSlots(a.geometry)
        // Without padding no key reads the pad bias, and dpad is 0; without dPadBias nobody wants it. Either way
        // backward_kv does not write pad_grad (dqkv stands in).
        let wantPad = dPadBias != nil && slots.count > 0
        let padGrad = wantPad ? try allocate(Shape(a.rows, 2 * a.headDim), name: "window attention padded-key gradients") : dqkv
        try launch(.window_attention_backward_kv, defines: .attention(a), global: global, local: Self.rowGroup,
                   cost: attentionCost(a, perPair: 8, extra: 3),
                   attentionBuffers(a) + saved + [.buffer(dqkv), .buffer(padGrad), .int(wantPad ? 1 : 0)] + attentionArgs(a)
                   + [.int(lanes)])
        if let dPadBias, !wantPad {
            if !accumulatePad { try fill(dPadBias, value: 0) }
        } else if let dPadBias {
            let c = a.geometry.channels
            let P = ReductionSplit.columnSlices(outputs: 2 * c, length: slots.count)
            let partials = try allocate(Shape(P, 2 * c), name: "window attention pad-bias partials")
            try launch(.window_attention_pad_grad, defines: .attention(a), global: P * 2 * c,
                       [.buffer(padGrad), .buffer(slots), .int(slots.count), .buffer(partials), .int(P)] + attentionArgs(a))
            try launch(.window_attention_pad_grad_finish, global: 3 * c, finishing: P * 2 * c,
                       [.buffer(partials), .buffer(dPadBias), .int(P), .int(c), .float(accumulatePad ? 1 : 0)])
        }
        try launch(.window_attention_backward_bias, defines: .attention(a), global: dBiasPerHead.count,
                   cost: attentionCost(a, perPair: 4, extra: 1),
                   attentionBuffers(a) + saved + [.buffer(dBiasPerHead)] + attentionArgs(a))
    }

    /// The geometry's padded slots on the device, uploaded once per geometry and kept (a step uploads nothing).
    private func paddedSlots(_ g: WindowGeometry) throws -> Tensor {
        if let t = paddedSlotLists[g] { return t }
        let slots = g.paddedSlots
        try Check.that(slots.last.map { $0 < 1 << 24 } ?? true, "window_attention_pad_grad",
                       "\(g.batch * g.windowsPerSample * g.tokens) window slots exceed the float-exact index range (2^24)")
        let t = try upload(slots.map(Float.init), shape: Shape(slots.count), name: "padded window slots")
        paddedSlotLists[g] = t
        return t
    }
}
