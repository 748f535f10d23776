// Launchers for kernels/layout.cl.
extension OpenCLBackend {
    public func permute(x: Tensor, dims: [Int], perm: [Int], y: Tensor) throws {
        guard dims.count <= 6 else { throw ShapeError(op: "permute", "rank \(dims.count) > 6 is not supported") }
        let strides = Shape(dims).strides
        // Left-pad to rank 6 with size-1 axes of stride 0.
        let pad = 6 - dims.count
        let outDims = [Int](repeating: 1, count: pad) + perm.map { dims[$0] }
        let inStrides = [Int](repeating: 0, count: pad) + perm.map { strides[$0] }
        try launch(.permute, global: y.count,
                   [.buffer(x), .buffer(y), .int(y.count)] + outDims.map { .int($0) } + inStrides.map { .int($0) })
    }

    public func copyBlock(src: Tensor, srcOffset: Int, srcStride: Int, dst: Tensor, dstOffset: Int, dstStride: Int,
                          rows: Int, length: Int) throws {
        try launch(.copy_block, global: rows * length,
                   [.buffer(src), .int(srcOffset), .int(srcStride), .buffer(dst), .int(dstOffset), .int(dstStride),
                    .int(rows), .int(length)])
    }
}
