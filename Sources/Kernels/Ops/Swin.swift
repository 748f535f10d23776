// Swin transformer ops (channels-last), MONAI SwinUNETR v1 semantics.

/// MONAI WindowAttention's relative position index for a window, and the CSR inverse used by the
/// bias-table gradient. Index values are exact small integers stored as floats on the device.
public struct RelativePositionIndex {
    /// The full-window index, (N, N) row-major with N = w0·w1·w2 (MONAI's `relative_position_index`).
    public let values: [Int]
    public let window: [Int]
    public var tokens: Int { window.reduce(1, *) }
    /// Rows of the bias table: (2w0−1)(2w1−1)(2w2−1).
    public var tableRows: Int { window.reduce(1) { $0 * (2 * $1 - 1) } }

    public init(window: [Int]) {
        self.window = window
        let n = window.reduce(1, *)
        let (w0, w1, w2) = (window[0], window[1], window[2])
        var v = [Int](repeating: 0, count: n * n)
        for i in 0..<n {
            let (di, hi, wi) = (i / (w1 * w2), (i / w2) % w1, i % w2)
            for j in 0..<n {
                let (dj, hj, wj) = (j / (w1 * w2), (j / w2) % w1, j % w2)
                v[i * n + j] = (di - dj + w0 - 1) * (2 * w1 - 1) * (2 * w2 - 1) + (hi - hj + w1 - 1) * (2 * w2 - 1) + (wi - wj + w2 - 1)
            }
        }
        values = v
    }

    /// For a (possibly clipped) window of `n` tokens, MONAI uses index[:n, :n]. Returns, per table row t,
    /// the flat positions i·n + j with index[i, j] = t, as CSR (ptr has tableRows + 1 entries).
    public func inverse(tokens n: Int) -> (ptr: [Float], list: [Float]) {
        let full = tokens
        var buckets = [[Int]](repeating: [], count: tableRows)
        for i in 0..<n { for j in 0..<n { buckets[values[i * full + j]].append(i * n + j) } }
        var ptr: [Float] = [0], list: [Float] = []
        for b in buckets { list += b.map(Float.init); ptr.append(Float(list.count)) }
        return (ptr, list)
    }
}

/// MONAI compute_mask: the region id of every token of every window on the padded grid, (nW, N).
/// Tokens of one window attend across regions only with −100 added.
public func shiftMaskRegions(_ g: WindowGeometry) -> [Float] {
    let p = g.padded, w = g.window, s = g.shift
    // Python's slice(-w), slice(-w, -s), slice(-s, None) on an axis of length P (note -0 == 0).
    func ranges(_ P: Int, _ w: Int, _ s: Int) -> [Range<Int>] {
        func clamp(_ v: Int) -> Int { v < 0 ? max(P + v, 0) : min(v, P) }
        return [0..<clamp(-w), clamp(-w)..<max(clamp(-w), clamp(-s)), clamp(-s)..<P]
    }
    var grid = [Float](repeating: 0, count: p[0] * p[1] * p[2])
    var cnt: Float = 0
    for rd in ranges(p[0], w[0], s[0]) {
        for rh in ranges(p[1], w[1], s[1]) {
            for rw in ranges(p[2], w[2], s[2]) {
                for d in rd { for h in rh { for x in rw { grid[(d * p[1] + h) * p[2] + x] = cnt } } }
                cnt += 1
            }
        }
    }
    let nWh = p[1] / w[1], nWw = p[2] / w[2], n = g.tokens
    var out = [Float](repeating: 0, count: g.windowsPerSample * n)
    for win in 0..<g.windowsPerSample {
        let (wd, wh, ww) = (win / (nWh * nWw), (win / nWw) % nWh, win % nWw)
        for t in 0..<n {
            let (id, ih, iw) = (t / (w[1] * w[2]), (t / w[2]) % w[1], t % w[2])
            out[win * n + t] = grid[((wd * w[0] + id) * p[1] + wh * w[1] + ih) * p[2] + ww * w[2] + iw]
        }
    }
    return out
}

extension Backend {
    private func checkWindowInput(_ x: Tensor, _ g: WindowGeometry, _ op: String) throws {
        try Check.shape(x, Shape([g.batch] + g.size + [g.channels]), op)
    }

    /// x (B, D, H, W, C) → windows (B·nW, N, C).
    public func windowPartition(_ x: Tensor, _ g: WindowGeometry) throws -> Tensor {
        try checkWindowInput(x, g, "windowPartition")
        let y = try allocate(Shape(g.batch * g.windowsPerSample, g.tokens, g.channels), name: "windows")
        try windowPartition(x: x, geometry: g, windows: y)
        return y
    }

    /// windows (B·nW, N, C) → x (B, D, H, W, C).
    public func windowMerge(_ windows: Tensor, _ g: WindowGeometry) throws -> Tensor {
        try Check.shape(windows, Shape(g.batch * g.windowsPerSample, g.tokens, g.channels), "windowMerge")
        let x = try allocate(Shape([g.batch] + g.size + [g.channels]), name: "window merge output")
        try windowMerge(windows: windows, geometry: g, x: x)
        return x
    }

    /// x (B, D, H, W, C) → (B, ⌈D/2⌉, ⌈H/2⌉, ⌈W/2⌉, 8C) in MONAI's x0..x7 order.
    public func patchMerge(_ x: Tensor) throws -> Tensor {
        try Check.rank(x, 5, "patchMerge", "(B, D, H, W, C)")
        let s = x.shape.dims
        let y = try allocate(Shape(s[0], (s[1] + 1) / 2, (s[2] + 1) / 2, (s[3] + 1) / 2, 8 * s[4]), name: "patch merge output")
        try patchMerge(x: x, dims: (s[0], s[1], s[2], s[3], s[4]), y: y)
        return y
    }

    public func patchMergeBackward(dy: Tensor, inputShape: Shape) throws -> Tensor {
        let s = inputShape.dims
        try Check.shape(dy, Shape(s[0], (s[1] + 1) / 2, (s[2] + 1) / 2, (s[3] + 1) / 2, 8 * s[4]), "patchMerge backward")
        let dx = try allocate(inputShape, name: "patch merge dx")
        try patchMergeBackward(dy: dy, dims: (s[0], s[1], s[2], s[3], s[4]), dx: dx)
        return dx
    }
}
