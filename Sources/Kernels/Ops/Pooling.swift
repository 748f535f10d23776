// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d on (N, C, H, W), PyTorch semantics (floor mode).
extension Backend {
    private func poolGeometry(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                              _ op: String) throws -> PoolGeometry {
        try Check.rank(x, 4, op, "input (N, C, H, W)")
        try Check.that(kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0, op, "kernel and stride must be positive")
        try Check.that(padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1, op,
                       "padding \(padding) must be at most half the kernel \(kernel)")
        let (h, w) = (x.shape[2], x.shape[3])
        let out = ((h + 2 * padding.0 - kernel.0) / stride.0 + 1, (w + 2 * padding.1 - kernel.1) / stride.1 + 1)
        try Check.that(out.0 > 0 && out.1 > 0, op, "kernel \(kernel) larger than padded input \(x.shape)")
        return PoolGeometry(planes: x.shape[0] * x.shape[1], input: (h, w), output: out, kernel: kernel,
                            stride: stride, padding: padding)
    }

    private func outShape(_ x: Tensor, _ g: PoolGeometry) -> Shape { Shape(x.shape[0], x.shape[1], g.output.h, g.output.w) }

    /// Returns y and the argmax indices (per plane, ih·W + iw, as floats) for the backward pass.
    public func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0))
        throws -> (y: Tensor, argmax: Tensor)
    {
        let g = try poolGeometry(x, kernel: kernel, stride: stride ?? kernel, padding: padding, "maxPool2d")
        let y = try allocate(outShape(x, g), name: "maxPool2d output")
        let arg = try allocate(y.shape, name: "maxPool2d argmax")
        try maxPool2d(x: x, geometry: g, y: y, argmax: arg)
        return (y, arg)
    }

    public func maxPool2dBackward(_ x: Tensor, argmax: Tensor, dy: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil,
                                  padding: (Int, Int) = (0, 0)) throws -> Tensor {
        let g = try poolGeometry(x, kernel: kernel, stride: stride ?? kernel, padding: padding, "maxPool2d backward")
        try Check.shape(dy, outShape(x, g), "maxPool2d backward")
        try Check.same(dy, argmax, "maxPool2d backward")
        let dx = try allocate(x.shape, name: "maxPool2d dx")
        try maxPool2dBackward(dy: dy, argmax: argmax, geometry: g, dx: dx)
        return dx
    }

    public func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true) throws -> Tensor {
        let g = try poolGeometry(x, kernel: kernel, stride: stride ?? kernel, padding: padding, "avgPool2d")
        let y = try allocate(outShape(x, g), name: "avgPool2d output")
        try avgPool2d(x: x, geometry: g, countIncludePad: countIncludePad, y: y)
        return y
    }

    public func avgPool2dBackward(_ x: Tensor, dy: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil,
                                  padding: (Int, Int) = (0, 0), countIncludePad: Bool = true) throws -> Tensor {
        let g = try poolGeometry(x, kernel: kernel, stride: stride ?? kernel, padding: padding, "avgPool2d backward")
        try Check.shape(dy, outShape(x, g), "avgPool2d backward")
        let dx = try allocate(x.shape, name: "avgPool2d dx")
        try avgPool2dBackward(dy: dy, geometry: g, countIncludePad: countIncludePad, dx: dx)
        return dx
    }

    private func adaptiveGeometry(_ x: Tensor, _ size: (Int, Int), _ op: String) throws -> PoolGeometry {
        try Check.rank(x, 4, op, "input (N, C, H, W)")
        try Check.that(size.0 > 0 && size.1 > 0, op, "output size must be positive")
        return PoolGeometry(planes: x.shape[0] * x.shape[1], input: (x.shape[2], x.shape[3]), output: size)
    }

    /// PyTorch's adaptive bins; `outputSize` (1, 1) is global average pooling.
    public func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) throws -> Tensor {
        let g = try adaptiveGeometry(x, outputSize, "adaptiveAvgPool2d")
        let y = try allocate(outShape(x, g), name: "adaptiveAvgPool2d output")
        try adaptiveAvgPool2d(x: x, geometry: g, y: y)
        return y
    }

    public func adaptiveAvgPool2dBackward(_ x: Tensor, dy: Tensor) throws -> Tensor {
        let g = try adaptiveGeometry(x, (dy.shape[2], dy.shape[3]), "adaptiveAvgPool2d backward")
        try Check.shape(dy, outShape(x, g), "adaptiveAvgPool2d backward")
        let dx = try allocate(x.shape, name: "adaptiveAvgPool2d dx")
        try adaptiveAvgPool2dBackward(dy: dy, geometry: g, dx: dx)
        return dx
    }
}
