import Foundation

extension CPUBackend {
    /// Index of the x element that window token (bw, n) reads, or nil in the padding.
    func windowSource(_ g: WindowGeometry, bw: Int, n: Int) -> Int? {
        let p = g.padded, win = g.window
        let nWh = p[1] / win[1], nWw = p[2] / win[2], nW = g.windowsPerSample
        let w = bw % nW, b = bw / nW
        let wd = w / (nWh * nWw), wh = (w / nWw) % nWh, ww = w % nWw
        let id = n / (win[1] * win[2]), ih = (n / win[2]) % win[1], iw = n % win[2]
        let d = (wd * win[0] + id + g.shift[0]) % p[0]
        let h = (wh * win[1] + ih + g.shift[1]) % p[1]
        let x = (ww * win[2] + iw + g.shift[2]) % p[2]
        guard d < g.size[0], h < g.size[1], x < g.size[2] else { return nil }
        return ((b * g.size[0] + d) * g.size[1] + h) * g.size[2] + x
    }

    public func windowPartition(x: Tensor, geometry g: WindowGeometry, windows: Tensor) throws {
        let xp = try ptr(x, "windowPartition"), yp = try ptr(windows, "windowPartition")
        let c = g.channels, n = g.tokens
        for bw in 0..<(g.batch * g.windowsPerSample) {
            for t in 0..<n {
                let dst = (bw * n + t) * c
                if let src = windowSource(g, bw: bw, n: t) {
                    (yp + dst).update(from: xp + src * c, count: c)
                } else {
                    (yp + dst).update(repeating: 0, count: c)
                }
            }
        }
    }

    public func windowMerge(windows: Tensor, geometry g: WindowGeometry, x: Tensor) throws {
        let wp = try ptr(windows, "windowMerge"), xp = try ptr(x, "windowMerge")
        let c = g.channels, n = g.tokens
        for bw in 0..<(g.batch * g.windowsPerSample) {
            for t in 0..<n {
                if let dst = windowSource(g, bw: bw, n: t) { (xp + dst * c).update(from: wp + (bw * n + t) * c, count: c) }
            }
        }
    }

    public func windowAttentionSoftmax(scores: Tensor, table: Tensor, relIndex: Tensor, indexStride: Int, region: Tensor?,
                                       windowsPerSample nW: Int, heads: Int, tokens n: Int, y: Tensor) throws {
        let sp = try ptr(scores, "windowAttention"), tp = try ptr(table, "windowAttention")
        let ip = try ptr(relIndex, "windowAttention"), yp = try ptr(y, "windowAttention")
        let rp = try region.map { try ptr($0, "windowAttention") }
        let rows = scores.count / n, chunks = 8
        // The relative-position bias of every (head, i, j), gathered once per call.
        var bias = [Float](repeating: 0, count: heads * n * n)
        for h in 0..<heads { for i in 0..<n { for j in 0..<n { bias[(h * n + i) * n + j] = tp[Int(ip[i * indexStride + j]) * heads + h] } } }
        bias.withUnsafeBufferPointer { bp in
          let bp = UncheckedSendable(value: bp)
          parallelFor(chunks) { chunk in
            for r in stride(from: chunk * rows / chunks, to: (chunk + 1) * rows / chunks, by: 1) {
                let i = r % n, head = (r / n) % heads, w = (r / (n * heads)) % nW
                let o = r * n, b = bp.value.baseAddress! + (head * n + i) * n
                for j in 0..<n { yp[o + j] = sp[o + j] + b[j] }
                if let rp {
                    let own = rp[w * n + i]
                    for j in 0..<n where rp[w * n + j] != own { yp[o + j] += -100 }
                }
                var m = -Float.infinity
                for j in 0..<n { m = max(m, yp[o + j]) }
                var s: Float = 0
                for j in 0..<n { let e = exp(yp[o + j] - m); yp[o + j] = e; s += e }
                let inv = 1 / s
                for j in 0..<n { yp[o + j] *= inv }
            }
          }
        }
    }

    public func indexGatherSum(src: Tensor, ptr rowPtr: Tensor, list: Tensor, rows: Int, heads: Int, stride: Int,
                               out: Tensor, accumulate: Bool) throws {
        let sp = try ptr(src, "indexGatherSum"), pp = try ptr(rowPtr, "indexGatherSum")
        let lp = try ptr(list, "indexGatherSum"), op = try ptr(out, "indexGatherSum")
        for t in 0..<rows {
            for k in 0..<heads {
                var s: Float = 0
                for q in Int(pp[t])..<Int(pp[t + 1]) { s += sp[k * stride + Int(lp[q])] }
                op[t * heads + k] = (accumulate ? op[t * heads + k] : 0) + s
            }
        }
    }

    /// MONAI's x0..x7 order of the (d, h, w) offsets.
    static let mergeOffsets = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1)]

    /// Visits (merged index, source index or nil) pairs of PatchMerging.
    private func forEachMerge(_ s: (b: Int, d: Int, h: Int, w: Int, c: Int), _ f: (Int, Int?) -> Void) {
        let (d2, h2, w2) = ((s.d + 1) / 2, (s.h + 1) / 2, (s.w + 1) / 2)
        var i = 0
        for b in 0..<s.b { for z in 0..<d2 { for y in 0..<h2 { for x in 0..<w2 {
            for (a, bb, cc) in Self.mergeOffsets {
                let (d, h, w) = (2 * z + a, 2 * y + bb, 2 * x + cc)
                let inside = d < s.d && h < s.h && w < s.w
                let base = (((b * s.d + d) * s.h + h) * s.w + w) * s.c
                for c in 0..<s.c { f(i, inside ? base + c : nil); i += 1 }
            }
        } } } }
    }

    public func patchMerge(x: Tensor, dims: (b: Int, d: Int, h: Int, w: Int, c: Int), y: Tensor) throws {
        let xp = try ptr(x, "patchMerge"), yp = try ptr(y, "patchMerge")
        forEachMerge(dims) { i, src in yp[i] = src.map { xp[$0] } ?? 0 }
    }

    public func patchMergeBackward(dy: Tensor, dims: (b: Int, d: Int, h: Int, w: Int, c: Int), dx: Tensor) throws {
        let gp = try ptr(dy, "patchMergeBackward"), dp = try ptr(dx, "patchMergeBackward")
        forEachMerge(dims) { i, src in if let src { dp[src] = gp[i] } }
    }
}
