// Sum and mean reductions and their broadcasting backward.
extension Backend {
    /// Σ over the outer and inner axes of x viewed as `dims`, keeping the middle: y (mid).
    /// With inner == 1 this sums rows, which the column-per-work-item kernel does with sequential reads.
    /// With `accumulate`, y += the sums.
    public func sumKeepingMiddle(_ x: Tensor, dims: Dims3, into y: Tensor, accumulate: Bool = false) throws {
        if dims.inner == 1 {
            try reduceSum(x: x, dims: Dims3(1, dims.outer, dims.mid), keep: .outer, y: y, accumulate: accumulate)
        } else {
            try reduceSum(x: x, dims: dims, keep: .middle, y: y, accumulate: accumulate)
        }
    }

    /// Σ over `axis` (the axis is removed, as torch.sum(dim=axis)).
    public func sum(_ x: Tensor, axis: Int) throws -> Tensor {
        try Check.that(x.shape.rank > 0 && axis >= -x.shape.rank && axis < x.shape.rank, "sum",
                       "axis \(axis) out of range for \(x.name) \(x.shape)")
        let d = x.shape.split(at: axis)
        var dims = x.shape.dims
        dims.remove(at: axis < 0 ? axis + x.shape.rank : axis)
        let y = try allocate(Shape(dims), name: "sum output")
        try reduceSum(x: x, dims: Dims3(d.outer, d.mid, d.inner), keep: .outer, y: y, accumulate: false)
        return y
    }

    /// Σ of every element, as a scalar tensor (shape ()).
    public func sum(_ x: Tensor) throws -> Tensor {
        let y = try allocate(Shape([]), name: "sum output")
        try reduceSum(x: x, dims: Dims3(1, 1, x.count), keep: .middle, y: y, accumulate: false)
        return y
    }

    public func mean(_ x: Tensor, axis: Int) throws -> Tensor {
        let s = try sum(x, axis: axis)
        return try apply(.scale(1 / Float(x.shape[axis])), s)
    }

    public func mean(_ x: Tensor) throws -> Tensor {
        try apply(.scale(1 / Float(max(x.count, 1))), try sum(x))
    }

    /// Gradient of `sum(x, axis:)`: dy broadcast back to `inputShape`.
    public func sumBackward(dy: Tensor, inputShape: Shape, axis: Int) throws -> Tensor {
        let d = inputShape.split(at: axis)
        try Check.that(dy.count == d.outer * d.inner, "sum backward", "dy \(dy.shape) does not match input \(inputShape)")
        let dx = try zeros(inputShape, name: "sum dx")
        try broadcastAdd(y: dx, base: nil, src: dy, dims: Dims3(d.outer, d.mid, d.inner), along: .outer)
        return dx
    }

    /// Gradient of `sum(x)`: the scalar dy everywhere.
    public func sumBackward(dy: Tensor, inputShape: Shape) throws -> Tensor {
        try Check.that(dy.count == 1, "sum backward", "dy must be a scalar, got \(dy.shape)")
        let dx = try zeros(inputShape, name: "sum dx")
        try broadcastAdd(y: dx, base: nil, src: dy, dims: Dims3(inputShape.count, 1, 1), along: .middle)
        return dx
    }
}
