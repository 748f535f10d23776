// Launchers for kernels/box.cl.
extension OpenCLBackend {
    public func boxCopy(src: Tensor, srcOffset: Int, srcBox s: [Int], dst: Tensor, dstOffset: Int, dstBox d: [Int],
                        channels: Int, offset o: [Int]) throws {
        try launch(.box_copy, global: channels * d[0] * d[1] * d[2],
                   [.buffer(src), .int(srcOffset), .buffer(dst), .int(dstOffset), .int(channels)]
                   + (s + d + o).map { .int($0) })
    }

    public func boxAccumulate(src: Tensor, srcOffset: Int, roi r: [Int], weight: Tensor, dst: Tensor, count: Tensor?,
                              box b: [Int], channels: Int, at o: [Int]) throws {
        try launch(.box_accumulate, global: channels * r[0] * r[1] * r[2],
                   [.buffer(src), .int(srcOffset), .buffer(weight), .buffer(dst), .buffer(count ?? dst), .int(channels)]
                   + (r + b + o).map { .int($0) } + [.int(count == nil ? 0 : 1)])
    }

    public func boxNormalize(x: Tensor, count: Tensor, channels: Int) throws {
        try launch(.box_normalize, global: x.count, [.buffer(x), .buffer(count), .int(channels), .int(x.count / max(channels, 1))])
    }
}
