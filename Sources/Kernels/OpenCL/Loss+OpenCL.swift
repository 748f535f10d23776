// Launchers for kernels/loss.cl.
extension OpenCLBackend {
    public func diceCEForward(logits: Tensor, labels: Tensor, dims: Dims3, options o: DiceCEOptions, probs: Tensor,
                              sums: Tensor, loss: Tensor) throws {
        let (B, C, S) = (dims.outer, dims.mid, dims.inner)
        let ce = try allocate(Shape(B * S), name: "cross-entropy per voxel")
        try launch(.dice_ce_softmax, global: B * S,
                   [.buffer(logits), .buffer(labels), .buffer(probs), .buffer(ce), .int(B), .int(C), .int(S)])
        let G = ReductionSplit.groupSlices(outputs: B * C, length: S, groupSize: reductionGroupSize)
        let partials = G > 1 ? try allocate(Shape(B * C, G, 3), name: "Dice partial sums") : sums
        try launch(.dice_sums, global: B * C * G * reductionGroupSize, local: reductionGroupSize,
                   cost: KernelCost(flops: 3 * Double(B * C * S), bytes: 4 * Double(B * C * S + B * S)),
                   [.buffer(probs), .buffer(labels), .buffer(partials), .int(C), .int(S), .int(G)])
        if G > 1 {
            try launch(.reduce_middle, global: B * C * 3, finishing: B * C * G * 3, [.buffer(partials), .buffer(sums), .int(B * C), .int(G), .int(3), .float(0)])
        }
        let ceSum = try allocate(Shape(1), name: "cross-entropy sum")
        try reduceSum(x: ce, dims: Dims3(1, 1, B * S), keep: .middle, y: ceSum, accumulate: false)
        try launch(.dice_ce_finalize, global: 1, finishing: B * C * 3 + 1,
                   [.buffer(sums), .buffer(ceSum), .buffer(loss), .int(B), .int(C), .int(S), .int(o.batch ? 1 : 0),
                    .float(o.smoothNr), .float(o.smoothDr), .float(o.lambdaDice), .float(o.lambdaCE)])
    }

    public func diceCEBackward(probs: Tensor, labels: Tensor, sums: Tensor, upstream: Tensor, dims: Dims3,
                               options o: DiceCEOptions, dlogits: Tensor) throws {
        try launch(.dice_ce_backward, global: dims.outer * dims.inner,
                   [.buffer(probs), .buffer(labels), .buffer(sums), .buffer(upstream), .buffer(dlogits),
                    .int(dims.outer), .int(dims.mid), .int(dims.inner), .int(o.batch ? 1 : 0), .float(o.smoothNr), .float(o.smoothDr),
                    .float(o.lambdaDice), .float(o.lambdaCE)])
    }
}

// Row losses (cross-entropy with soft targets, row L2 normalisation).
extension OpenCLBackend {
    public func crossEntropyRows(logits: Tensor, targets: Tensor, probs: Tensor, rowLoss: Tensor, rows: Int,
                                 cols: Int) throws {
        try launch(.cross_entropy_rows, global: rows,
                   [.buffer(logits), .buffer(targets), .buffer(probs), .buffer(rowLoss), .int(rows), .int(cols)])
    }

    public func crossEntropyRowsBackward(probs: Tensor, targets: Tensor, upstream: Tensor, scale: Float,
                                         dlogits: Tensor) throws {
        try launch(.cross_entropy_rows_backward, global: probs.count,
                   [.buffer(probs), .buffer(targets), .buffer(upstream), .buffer(dlogits), .int(probs.count),
                    .float(scale)])
    }

    public func rowNormalize(x: Tensor, y: Tensor, norms: Tensor, rows: Int, cols: Int, eps: Float) throws {
        try launch(.row_l2_normalize, global: rows,
                   [.buffer(x), .buffer(y), .buffer(norms), .int(rows), .int(cols), .float(eps)])
    }

    public func rowNormalizeBackward(y: Tensor, norms: Tensor, dy: Tensor, dx: Tensor, rows: Int, cols: Int,
                                     eps: Float) throws {
        try launch(.row_l2_normalize_backward, global: rows,
                   [.buffer(y), .buffer(norms), .buffer(dy), .buffer(dx), .int(rows), .int(cols), .float(eps)])
    }
}
