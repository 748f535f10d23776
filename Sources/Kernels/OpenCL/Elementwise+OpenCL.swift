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

    public func axpy(alpha: Float, x: Tensor, y: Tensor) throws {
        try launch(.axpy, global: y.count, [.float(alpha), .buffer(x), .buffer(y), .int(y.count)])
    }

    public func broadcastAdd(y: Tensor, src: Tensor, dims: Dims3, along: Dims3.Keep) throws {
        try launch(.broadcast_add, global: dims.count,
                   [.buffer(y), .buffer(src), .int(dims.outer), .int(dims.mid), .int(dims.inner), .int(Int(along.rawValue))])
    }

    public func dropoutMask(y: Tensor, p: Float, seed: UInt64) throws {
        try launch(.dropout_mask, global: y.count,
                   [.buffer(y), .int(y.count), .uint(UInt32(truncatingIfNeeded: seed)), .uint(UInt32(seed >> 32)), .float(p)])
    }

    public func reduceSum(x: Tensor, dims: Dims3, keep: Dims3.Keep, y: Tensor) throws {
        let sizes: [Arg] = [.int(dims.outer), .int(dims.mid), .int(dims.inner)]
        switch keep {
        case .middle:
            try launch(.reduce_keep_middle, global: dims.mid * reductionGroupSize, local: reductionGroupSize,
                       [.buffer(x), .buffer(y)] + sizes)
        case .outer:
            try launch(.reduce_middle, global: dims.outer * dims.inner, [.buffer(x), .buffer(y)] + sizes)
        }
    }

    public func softmax(x: Tensor, y: Tensor, rows: Int, cols: Int) throws {
        try launch(.softmax_forward, global: rows, [.buffer(x), .buffer(y), .int(rows), .int(cols)])
    }

    public func softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor, rows: Int, cols: Int) throws {
        try launch(.softmax_backward, global: rows, [.buffer(y), .buffer(dy), .buffer(dx), .int(rows), .int(cols)])
    }
}
