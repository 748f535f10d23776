extension CPUBackend {
    public func permute(x: Tensor, dims: [Int], perm: [Int], y: Tensor) throws {
        let xp = try ptr(x, "permute"), yp = try ptr(y, "permute")
        let inStrides = Shape(dims).strides
        let outDims = perm.map { dims[$0] }
        let strides = perm.map { inStrides[$0] }
        var index = [Int](repeating: 0, count: outDims.count)
        for i in 0..<y.count {
            var off = 0
            for k in 0..<index.count { off += index[k] * strides[k] }
            yp[i] = xp[off]
            var k = index.count - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < outDims[k] { break }
                index[k] = 0
                k -= 1
            }
        }
    }

    public func copyBlock(src: Tensor, srcOffset: Int, srcStride: Int, dst: Tensor, dstOffset: Int, dstStride: Int,
                          rows: Int, length: Int) throws {
        let sp = try ptr(src, "copyBlock"), dp = try ptr(dst, "copyBlock")
        for r in 0..<rows {
            (dp + dstOffset + r * dstStride).update(from: sp + srcOffset + r * srcStride, count: length)
        }
    }
}
