// Elementwise ops, forward and backward. Backward of add/sub/mul is composed here from the same kernels.
extension Backend {
    public func zeros(_ shape: Shape, name: String) throws -> Tensor {
        let t = try allocate(shape, name: name)
        try fill(t, value: 0)
        return t
    }

    public func full(_ shape: Shape, value: Float, name: String) throws -> Tensor {
        let t = try allocate(shape, name: name)
        try fill(t, value: value)
        return t
    }

    /// A device-side copy.
    public func copy(_ x: Tensor, name: String? = nil) throws -> Tensor {
        let y = try allocate(x.shape, name: name ?? x.name)
        try copy(x, into: y)
        return y
    }

    /// dst = src on the device (one shape).
    public func copy(_ src: Tensor, into dst: Tensor) throws {
        try Check.same(src, dst, "copy")
        try copyBlock(src: src, srcOffset: 0, srcStride: 0, dst: dst, dstOffset: 0, dstStride: 0, rows: 1, length: src.count)
    }

    /// y = f(x) for ReLU, LeakyReLU, GELU (erf), sigmoid, scale, rsqrt.
    public func apply(_ op: UnaryOp, _ x: Tensor) throws -> Tensor {
        let y = try allocate(x.shape, name: "\(op) output")
        try unary(op, x: x, y: y)
        return y
    }

    /// dx = f'(x) · dy
    public func applyBackward(_ op: UnaryOp, x: Tensor, dy: Tensor) throws -> Tensor {
        try Check.same(x, dy, "\(op) backward")
        let dx = try allocate(x.shape, name: "\(op) dx")
        try unaryBackward(op, x: x, dy: dy, dx: dx)
        return dx
    }

    /// a (op) b, same shapes.
    public func elementwise(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try Check.same(a, b, "\(op)")
        let y = try allocate(a.shape, name: "\(op) output")
        try binary(op, a: a, b: b, y: y)
        return y
    }

    /// act(a + b), same shapes.
    public func addActivated(_ a: Tensor, _ b: Tensor, activation: FusedActivation) throws -> Tensor {
        try Check.same(a, b, "addActivated")
        let y = try allocate(a.shape, name: "add + activation output")
        try addActivated(a: a, b: b, activation: activation, y: y)
        return y
    }

    /// y = x + bias broadcast along `axis` (Linear: the last axis; Conv: axis 1). bias: (x.shape[axis])
    public func addBias(_ x: Tensor, _ bias: Tensor, axis: Int) throws -> Tensor {
        let d = x.shape.split(at: axis)
        try Check.shape(bias, Shape(d.mid), "addBias")
        let y = try allocate(x.shape, name: "addBias output")
        try broadcastAdd(y: y, base: x, src: bias, dims: Dims3(d.outer, d.mid, d.inner), along: .middle)
        return y
    }

    /// dbias = Σ dy over every axis but `axis`.
    public func addBiasBackward(dy: Tensor, axis: Int) throws -> Tensor {
        try addBiasBackward(dy: dy, axis: axis, into: .new)!
    }

    /// dbias written where `into` says: a new tensor, added into a parameter slot, or not at all (nil).
    public func addBiasBackward(dy: Tensor, axis: Int, into target: GradientOutput) throws -> Tensor? {
        let d = dy.shape.split(at: axis)
        guard let db = try target.target(Shape(d.mid), name: "bias grad", on: self) else { return nil }
        try sumKeepingMiddle(dy, dims: Dims3(d.outer, d.mid, d.inner), into: db, accumulate: target.accumulates)
        return db
    }

    /// y += alpha · x (gradient accumulation), same shapes.
    public func accumulate(_ y: Tensor, _ x: Tensor, alpha: Float = 1) throws {
        try Check.same(y, x, "accumulate")
        try axpy(alpha: alpha, x: x, y: y)
    }
}
