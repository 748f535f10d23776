extension Backend {
    /// Softmax over the last axis.
    public func softmax(_ x: Tensor) throws -> Tensor {
        try Check.that(x.shape.rank >= 1, "softmax", "\(x.name) must have at least one axis")
        let cols = x.shape[-1]
        let y = try allocate(x.shape, name: "softmax output")
        try softmax(x: x, y: y, rows: x.count / max(cols, 1), cols: cols)
        return y
    }

    /// dx = y ⊙ (dy − Σ dy ⊙ y) from the forward output y.
    public func softmaxBackward(y: Tensor, dy: Tensor) throws -> Tensor {
        try Check.same(y, dy, "softmax backward")
        let cols = y.shape[-1]
        let dx = try allocate(y.shape, name: "softmax dx")
        try softmaxBackward(y: y, dy: dy, dx: dx, rows: y.count / max(cols, 1), cols: cols)
        return dx
    }
}
