extension CPUBackend {
    public func boxCopy(src: Tensor, srcOffset: Int, srcBox s: [Int], dst: Tensor, dstOffset: Int, dstBox d: [Int],
                        channels: Int, offset o: [Int]) throws {
        let sp = try ptr(src, "boxCopy") + srcOffset, dp = try ptr(dst, "boxCopy") + dstOffset
        var i = 0
        for c in 0..<channels { for z in 0..<d[0] { for y in 0..<d[1] { for x in 0..<d[2] {
            let (sz, sy, sx) = (z + o[0], y + o[1], x + o[2])
            let inside = sz >= 0 && sz < s[0] && sy >= 0 && sy < s[1] && sx >= 0 && sx < s[2]
            dp[i] = inside ? sp[((c * s[0] + sz) * s[1] + sy) * s[2] + sx] : 0
            i += 1
        } } } }
    }

    public func boxAccumulate(src: Tensor, srcOffset: Int, roi r: [Int], weight: Tensor, dst: Tensor, count: Tensor?,
                              box b: [Int], channels: Int, at o: [Int]) throws {
        let sp = try ptr(src, "boxAccumulate") + srcOffset, wp = try ptr(weight, "boxAccumulate")
        let dp = try ptr(dst, "boxAccumulate"), cp = try count.map { try ptr($0, "boxAccumulate") }
        let plane = b[0] * b[1] * b[2]
        var i = 0
        for c in 0..<channels { for z in 0..<r[0] { for y in 0..<r[1] { for x in 0..<r[2] {
            let w = wp[(z * r[1] + y) * r[2] + x]
            let off = ((o[0] + z) * b[1] + o[1] + y) * b[2] + o[2] + x
            dp[c * plane + off] += sp[i] * w
            if c == 0, let cp { cp[off] += w }
            i += 1
        } } } }
    }

    public func boxNormalize(x: Tensor, count: Tensor, channels: Int) throws {
        let xp = try ptr(x, "boxNormalize"), cp = try ptr(count, "boxNormalize")
        let s = x.count / max(channels, 1)
        for i in 0..<x.count { xp[i] /= cp[i % s] }
    }
}
