// Launchers for kernels/elementwise.cl and kernels/reduce.cl.
extension OpenCLBackend {
    public func fill(_ y: Tensor, value: Float) throws {
        try launch(.fill, global: y.count, [.buffer(y), .float(value), .int(y.count)])
    }

    public func unary(_ op: UnaryOp, x: Tensor, y: Tensor) throws {
        try launch(.unary_forward, global: y.count,
                   [.buffer(x), .buffer(y), .int(y.count), .int(Int(op.code)), .float(op.parameter)])
    }

    public func unaryBackward(_ op: UnaryOp, x: Tensor, dy: Tensor, dx: Tensor) throws {
        try launch(.unary_backward, global: dx.count,
                   [.buffer(x), .buffer(dy), .buffer(dx), .int(dx.count), .int(Int(op.code)), .float(op.parameter)])
    }

    public func binary(_ op: BinaryOp, a: Tensor, b: Tensor, y: Tensor) throws {
        try launch(.binary_forward, global: y.count,
                   [.buffer(a), .buffer(b), .buffer(y), .int(y.count), .int(Int(op.rawValue))])
    }

    public func addActivated(a: Tensor, b: Tensor, activation: FusedActivation, y: Tensor) throws {
        try launch(.add_activated, global: y.count,
                   [.buffer(a), .buffer(b), .buffer(y), .int(y.count), .int(Int(activation.code)), .float(activation.slope)])
    }

    public func axpy(alpha: Float, x: Tensor, y: Tensor) throws {
        try launch(.axpy, global: y.count, [.float(alpha), .buffer(x), .buffer(y), .int(y.count)])
    }

    public func broadcastAdd(y: Tensor, base: Tensor?, src: Tensor, dims: Dims3, along: Dims3.Keep) throws {
        try launch(.broadcast_add, global: dims.count,
                   [.buffer(y), .buffer(base ?? y), .buffer(src), .int(dims.outer), .int(dims.mid), .int(dims.inner),
                    .int(Int(along.rawValue))])
    }

    public func biasUnary(_ op: UnaryOp, pre: Tensor, bias: Tensor, columns: Int, y: Tensor) throws {
        try launch(.bias_unary_forward, global: y.count,
                   [.buffer(pre), .buffer(bias), .buffer(y), .int(y.count), .int(columns), .int(Int(op.code)),
                    .float(op.parameter)])
    }

    public func dropoutMask(y: Tensor, p: Float, seed: UInt64) throws {
        try launch(.dropout_mask, global: y.count,
                   [.buffer(y), .int(y.count), .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(seed >> 32)), .float(p)])
    }

    /// Two-stage when the sum is long (ReductionSplit): partials over many work-groups, then a finishing pass, which
    /// (or the single stage) adds into y with `accumulate`.
    public func reduceSum(x: Tensor, dims: Dims3, keep: Dims3.Keep, y: Tensor, accumulate: Bool) throws {
        let (A, B, C) = (dims.outer, dims.mid, dims.inner)
        let beta: Float = accumulate ? 1 : 0
        switch keep {
        case .middle:
            let G = ReductionSplit.groupSlices(outputs: B, length: A * C, groupSize: reductionGroupSize)
            let partials = G > 1 ? try allocate(Shape(B, G), name: "reduction partials") : y
            try launch(.reduce_keep_middle, global: B * G * reductionGroupSize, local: reductionGroupSize,
                       cost: KernelCost(flops: Double(x.count), bytes: 4 * Double(x.count + B * G)),
                       [.buffer(x), .buffer(partials), .int(A), .int(B), .int(C), .int(G), .float(G > 1 ? 0 : beta)])
            if G > 1 {   // the finishing pass: each b's G partials
                try launch(.reduce_keep_middle, global: B * reductionGroupSize, local: reductionGroupSize,
                           cost: KernelCost(flops: Double(B * G), bytes: 4 * Double(B * G + B)), finishing: B * G,
                           [.buffer(partials), .buffer(y), .int(1), .int(B), .int(G), .int(1), .float(beta)])
            }
        case .outer:
            let P = ReductionSplit.columnSlices(outputs: A * C, length: B)
            var source = x, sizes = (A, B, C)
            if P > 1 {
                source = try allocate(Shape(P, A * C), name: "reduction partials")
                try launch(.reduce_middle_partial, global: P * A * C,
                           cost: KernelCost(flops: Double(x.count), bytes: 4 * Double(x.count + P * A * C)),
                           [.buffer(x), .buffer(source), .int(A), .int(B), .int(C), .int(P)])
                sizes = (1, P, A * C)
            }
            try launch(.reduce_middle, global: A * C,
                       cost: KernelCost(flops: Double(sizes.1 * A * C), bytes: 4 * Double((sizes.1 + 1) * A * C)),
                       finishing: P > 1 ? P * A * C : nil,
                       [.buffer(source), .buffer(y), .int(sizes.0), .int(sizes.1), .int(sizes.2), .float(beta)])
        }
    }

    public func softmax(x: Tensor, y: Tensor, rows: Int, cols: Int) throws {
        try launch(.softmax_forward, global: rows, [.buffer(x), .buffer(y), .int(rows), .int(cols)])
    }

    public func softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor, rows: Int, cols: Int) throws {
        try launch(.softmax_backward, global: rows, [.buffer(y), .buffer(dy), .buffer(dx), .int(rows), .int(cols)])
    }
}
