// Launchers for kernels/pool.cl.
extension OpenCLBackend {
    private func poolArgs(_ g: PoolGeometry) -> [Arg] {
        [g.planes, g.input.h, g.input.w, g.output.h, g.output.w, g.kernel.h, g.kernel.w,
         g.stride.h, g.stride.w, g.padding.h, g.padding.w].map { .int($0) }
    }

    private func adaptiveArgs(_ g: PoolGeometry) -> [Arg] {
        [g.planes, g.input.h, g.input.w, g.output.h, g.output.w].map { .int($0) }
    }

    public func maxPool2d(x: Tensor, geometry g: PoolGeometry, y: Tensor, argmax: Tensor) throws {
        try launch(.max_pool2d_forward, global: y.count, [.buffer(x), .buffer(y), .buffer(argmax)] + poolArgs(g))
    }

    public func maxPool2dBackward(dy: Tensor, argmax: Tensor, geometry g: PoolGeometry, dx: Tensor) throws {
        try launch(.max_pool2d_backward, global: dx.count, [.buffer(dy), .buffer(argmax), .buffer(dx)] + poolArgs(g))
    }

    public func avgPool2d(x: Tensor, geometry g: PoolGeometry, countIncludePad: Bool, y: Tensor) throws {
        try launch(.avg_pool2d_forward, global: y.count,
                   [.buffer(x), .buffer(y)] + poolArgs(g) + [.int(countIncludePad ? 1 : 0)])
    }

    public func avgPool2dBackward(dy: Tensor, geometry g: PoolGeometry, countIncludePad: Bool, dx: Tensor) throws {
        try launch(.avg_pool2d_backward, global: dx.count,
                   [.buffer(dy), .buffer(dx)] + poolArgs(g) + [.int(countIncludePad ? 1 : 0)])
    }

    public func adaptiveAvgPool2d(x: Tensor, geometry g: PoolGeometry, y: Tensor) throws {
        try launch(.adaptive_avg_pool2d_forward, global: y.count, [.buffer(x), .buffer(y)] + adaptiveArgs(g))
    }

    public func adaptiveAvgPool2dBackward(dy: Tensor, geometry g: PoolGeometry, dx: Tensor) throws {
        try launch(.adaptive_avg_pool2d_backward, global: dx.count, [.buffer(dy), .buffer(dx)] + adaptiveArgs(g))
    }
}
