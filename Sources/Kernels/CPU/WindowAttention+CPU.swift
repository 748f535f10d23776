import Foundation

// CPU reference of kernels/window_attention.cl: one (window, head) at a time. Its q, k, v are gathered
// from the token tensor into scratch (k and v transposed, so every inner loop runs over the N keys),
// and one score row at a time is formed, normalised and used — the (N × N) matrix never exists.
// The backward recomputes each row from the stored log-sum-exp. A padded query (a slot in the padding)
// has no output and no gradient, so its row is not computed at all (its log-sum-exp is stored as 0).
//
// Every key row is padded to a multiple of eight lanes (`AttentionContext.n8`): the pad lanes hold k = v = 0
// and a bias of −∞, so their probability is exactly 0 and no inner loop needs a scalar tail.
/// Tasks are (window, head) pairs split into at most this many fixed chunks; each chunk owns its partial
/// sums of the bias and pad-bias gradients, added in chunk order, so results do not depend on which core
/// ran which chunk.
private let attentionChunks = 8

private typealias Lanes = SIMD8<Float>

extension CPUBackend {
    public func windowAttentionForward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor) throws {
        let ctx = try AttentionContext(self, a)
        let yp = try ptr(y, "windowAttention"), lp = try ptr(lse, "windowAttention")
        let (n, c, hd) = (ctx.n, ctx.c, ctx.hd)
        parallelFor(ctx.chunks) { chunk in
            let s = ScratchWindow(n: n, n8: ctx.n8, hd: hd)
            defer { s.free() }
            for task in ctx.tasks(chunk) {
                let (bw, h) = (task / a.heads, task % a.heads)
                ctx.gather(bw: bw, head: h, into: s)
                for i in 0..<n {
                    let src = ctx.sources[bw * n + i]
                    guard src >= 0 else { lp[task * n + i] = 0; continue }
                    let m = ctx.scores(row: i, bw: bw, head: h, s)
                    let sum = expRow(s.row, minus: m, ctx.n8)
                    lp[task * n + i] = m + log(sum)
                    let inv = 1 / sum
                    for d in 0..<hd { yp[src * c + h * hd + d] = dot(s.row, s.vt + d * ctx.n8, ctx.n8) * inv }
                }
            }
        }
    }

    public func windowAttentionBackward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor, dy: Tensor, dqkv: Tensor,
                                        dPadBias: Tensor?, accumulatePad: Bool, dBiasPerHead: Tensor) throws {
        let ctx = try AttentionContext(self, a)
        let lp = try ptr(lse, "windowAttention backward"), gp = try ptr(dy, "windowAttention backward")
        let dq = try ptr(dqkv, "windowAttention backward"), dpad = try dPadBias.map { try ptr($0, "windowAttention backward") }
        let dbias = try ptr(dBiasPerHead, "windowAttention backward")
        let (n, n8, c, hd, heads) = (ctx.n, ctx.n8, ctx.c, ctx.hd, a.heads)
        // Per chunk: bias gradient (heads, N, n8), then the pad-bias gradient (3C).
        let partSize = heads * n * n8 + 3 * c
        let parts = UnsafeMutablePointer<Float>.allocate(capacity: ctx.chunks * partSize)
        defer { parts.deallocate() }
        parts.update(repeating: 0, count: ctx.chunks * partSize)
        parallelFor(ctx.chunks) { chunk in
            let s = ScratchWindow(n: n, n8: n8, hd: hd)
            defer { s.free() }
            let accBias = parts + chunk * partSize, accPad = accBias + heads * n * n8
            for task in ctx.tasks(chunk) {
                let (bw, h) = (task / heads, task % heads)
                ctx.gather(bw: bw, head: h, into: s)
                for t in 0..<n {
                    let src = ctx.sources[bw * n + t]
                    for d in 0..<hd { s.dO[t * hd + d] = src >= 0 ? gp[src * c + h * hd + d] : 0 }
                }
                s.dkt.update(repeating: 0, count: hd * n8)
                s.dvt.update(repeating: 0, count: hd * n8)
                for i in 0..<n where ctx.sources[bw * n + i] >= 0 {   // a padded query has no upstream gradient
                    _ = ctx.scores(row: i, bw: bw, head: h, s)
                    let rowDot = probabilitiesAndValueGradients(row: i, s, lse: lp[task * n + i], hd: hd, n8: n8)
                    scoreGradients(row: i, s, rowDot: rowDot, accBias: accBias + (h * n + i) * n8, scale: ctx.scale, hd: hd, n8: n8)
                }
                for t in 0..<n {
                    let src = ctx.sources[bw * n + t]
                    for d in 0..<hd {
                        let (k, v) = (s.dkt[d * n8 + t], s.dvt[d * n8 + t])
                        if src >= 0 {
                            let o = src * 3 * c + h * hd + d
                            dq[o] = s.dq[t * hd + d]
                            dq[o + c] = k
                            dq[o + 2 * c] = v
                        } else {
                            accPad[c + h * hd + d] += k
                            accPad[2 * c + h * hd + d] += v
                        }
                    }
                }
            }
        }
        dbias.update(repeating: 0, count: heads * n * n)
        if !accumulatePad { dpad?.update(repeating: 0, count: 3 * c) }
        for chunk in 0..<ctx.chunks {
            let part = parts + chunk * partSize
            for r in 0..<(heads * n) { add(part + r * n8, into: dbias + r * n, n) }
            if let dpad { add(part + heads * n * n8, into: dpad, 3 * c) }
        }
    }
}

/// Query row i of the backward, first pass: P_ij = exp(s_ij − lse_i) replaces the scores in `row`,
/// dP_ij = dO_i · v_j goes to `dp`, dV_j += P_ij dO_i; returns Σ_j P_ij dP_ij.
@inline(__always) private func probabilitiesAndValueGradients(row i: Int, _ s: ScratchWindow, lse: Float, hd: Int, n8: Int) -> Float {
    let dO = s.dO + i * hd, shift = Lanes(repeating: lse)
    var rowDot = Lanes(repeating: 0)
    var j = 0
    while j < n8 {
        let p = exp8(load(s.row + j) - shift)
        store(p, s.row + j)
        var dp = Lanes(repeating: 0)
        for d in 0..<hd { dp += dO[d] * load(s.vt + d * n8 + j) }
        store(dp, s.dp + j)
        rowDot += p * dp
        for d in 0..<hd { store(load(s.dvt + d * n8 + j) + dO[d] * p, s.dvt + d * n8 + j) }
        j += 8
    }
    return rowDot.sum()
}

/// Query row i of the backward, second pass: dS_ij = P_ij (dP_ij − rowDot) is added to the bias gradient row,
/// dQ_i = scale Σ_j dS_ij k_j, dK_j += dS_ij (scale q_i).
@inline(__always) private func scoreGradients(row i: Int, _ s: ScratchWindow, rowDot: Float, accBias: UnsafeMutablePointer<Float>,
                                              scale: Float, hd: Int, n8: Int) {
    let q = s.q + i * hd, rd = Lanes(repeating: rowDot)
    for d in 0..<hd { s.dqLanes[d] = Lanes(repeating: 0) }
    var j = 0
    while j < n8 {
        let ds = load(s.row + j) * (load(s.dp + j) - rd)
        store(load(accBias + j) + ds, accBias + j)
        for d in 0..<hd {
            s.dqLanes[d] += ds * load(s.kt + d * n8 + j)
            store(load(s.dkt + d * n8 + j) + q[d] * ds, s.dkt + d * n8 + j)
        }
        j += 8
    }
    for d in 0..<hd { s.dq[i * hd + d] = s.dqLanes[d].sum() * scale }
}

/// What every (window, head) task of one call shares: pointers, the slot → token map, the gathered bias.
private struct AttentionContext: @unchecked Sendable {
    let n: Int, n8: Int, c: Int, hd: Int, heads: Int, nW: Int, scale: Float, chunks: Int, taskCount: Int
    let qkv: UnsafeMutablePointer<Float>, pad: UnsafeMutablePointer<Float>
    /// Source token of every window slot (B·nW·N), −1 in the padding.
    let sources: [Int]
    /// The relative position bias of every (head, i, j): (heads, N, n8), −∞ in the pad lanes.
    let bias: [Float]
    /// Shift-region id of every slot of every window (nW, n8); nil for an unshifted block.
    let region: [Float]?

    init(_ be: CPUBackend, _ a: WindowAttentionInputs) throws {
        let g = a.geometry
        n = g.tokens
        n8 = (g.tokens + 7) / 8 * 8
        c = g.channels
        hd = a.headDim
        heads = a.heads
        nW = g.windowsPerSample
        scale = a.scale
        taskCount = g.batch * nW * heads
        chunks = min(attentionChunks, taskCount)
        qkv = try be.ptr(a.qkv, "windowAttention")
        pad = try be.ptr(a.padBias, "windowAttention")
        let (n, n8, heads, nW) = (n, n8, heads, nW)
        sources = (0..<(g.batch * nW * n)).map { be.windowSource(g, bw: $0 / n, n: $0 % n) ?? -1 }
        let tp = try be.ptr(a.table, "windowAttention"), ip = try be.ptr(a.relIndex, "windowAttention")
        var b = [Float](repeating: -.infinity, count: heads * n * n8)
        for h in 0..<heads { for i in 0..<n { for j in 0..<n {
            b[(h * n + i) * n8 + j] = tp[Int(ip[i * a.indexStride + j]) * heads + h]
        } } }
        bias = b
        region = try a.region.map { t in
            let rp = try be.ptr(t, "windowAttention")
            var r = [Float](repeating: 0, count: nW * n8)
            for w in 0..<nW { for j in 0..<n { r[w * n8 + j] = rp[w * n + j] } }
            return r
        }
    }

    func tasks(_ chunk: Int) -> Range<Int> { (chunk * taskCount / chunks)..<((chunk + 1) * taskCount / chunks) }

    /// q (N, hd) pre-scaled, kᵀ and vᵀ (hd, n8) of window bw, head h (the pad lanes stay 0).
    func gather(bw: Int, head h: Int, into s: ScratchWindow) {
        for t in 0..<n {
            let src = sources[bw * n + t]
            let base = src >= 0 ? qkv + src * 3 * c : pad
            for d in 0..<hd {
                s.q[t * hd + d] = base[h * hd + d] * scale
                s.kt[d * n8 + t] = base[c + h * hd + d]
                s.vt[d * n8 + t] = base[2 * c + h * hd + d]
            }
        }
    }

    /// s.row[j] = (scale q_i) · k_j + bias(h, i, j) (− 100 across shift regions), MONAI's order of additions;
    /// returns max_j of the row.
    func scores(row i: Int, bw: Int, head h: Int, _ s: ScratchWindow) -> Float {
        let q = s.q + i * hd
        var top = Lanes(repeating: -.infinity)
        bias.withUnsafeBufferPointer { b in
            let bi = b.baseAddress! + (h * n + i) * n8
            func row(_ penalty: (Int, Lanes) -> Lanes) {
                var j = 0
                while j < n8 {
                    var acc = Lanes(repeating: 0)
                    for d in 0..<hd { acc += q[d] * load(s.kt + d * n8 + j) }
                    acc = penalty(j, acc + load(bi + j))
                    store(acc, s.row + j)
                    top = top.replacing(with: acc, where: acc .> top)
                    j += 8
                }
            }
            if let region {
                region.withUnsafeBufferPointer { r in
                    let rw = r.baseAddress! + (bw % nW) * n8, own = Lanes(repeating: rw[i])
                    row { j, x in x.replacing(with: x + -100, where: load(rw + j) .!= own) }
                }
            } else {
                row { _, x in x }
            }
        }
        return top.max()
    }
}

/// Per-thread scratch of one (window, head): q, dO, dq (N, hd); kᵀ, vᵀ, dkᵀ, dvᵀ (hd, n8); two rows (n8);
/// hd lane accumulators for dq.
private struct ScratchWindow {
    let q, dO, dq, kt, vt, dkt, dvt, row, dp: UnsafeMutablePointer<Float>
    let dqLanes: UnsafeMutablePointer<Lanes>
    private let base: UnsafeMutablePointer<Float>

    init(n: Int, n8: Int, hd: Int) {
        let m = n * hd, m8 = n8 * hd, count = 3 * m + 4 * m8 + 2 * n8
        base = .allocate(capacity: count)
        base.update(repeating: 0, count: count)
        (q, dO, dq) = (base, base + m, base + 2 * m)
        (kt, vt, dkt, dvt) = (base + 3 * m, base + 3 * m + m8, base + 3 * m + 2 * m8, base + 3 * m + 3 * m8)
        (row, dp) = (base + 3 * m + 4 * m8, base + 3 * m + 4 * m8 + n8)
        dqLanes = .allocate(capacity: hd)
    }

    func free() { base.deallocate(); dqLanes.deallocate() }
}

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
@inline(__always) private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

/// Σ a[j]·b[j] over n8 (a multiple of 8) elements, eight lanes at a time (a fixed order: deterministic).
@inline(__always) private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n8: Int) -> Float {
    var acc = Lanes(repeating: 0)
    var j = 0
    while j < n8 { acc += load(a + j) * load(b + j); j += 8 }
    return acc.sum()
}

/// y[j] += x[j] for j < n.
@inline(__always) private func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
    var j = 0
    while j + 8 <= n { store(load(y + j) + load(x + j), y + j); j += 8 }
    while j < n { y[j] += x[j]; j += 1 }
}

/// x[j] = exp(x[j] − shift) in place over n8 elements; returns Σ_j of the results (lanes summed in a fixed order).
@inline(__always) private func expRow(_ x: UnsafeMutablePointer<Float>, minus shift: Float, _ n8: Int) -> Float {
    var acc = Lanes(repeating: 0)
    var j = 0
    let sv = Lanes(repeating: shift)
    while j < n8 {
        let e = exp8(load(x + j) - sv)
        store(e, x + j)
        acc += e
        j += 8
    }
    return acc.sum()
}

/// e^x for eight lanes: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its degree-6
/// Taylor polynomial (relative error < 2e-7, about 2 ulp), times 2^n built in the exponent bits.
/// Below −87.3 (e^x < 1.2e−38, about the smallest normal float, and −∞ in the pad lanes) the result is 0;
/// above 88.3 the input is clamped. Adding 1.5·2^23 rounds x·log2(e) to the integer n and leaves n in the
/// sum's low mantissa bits. (The comparisons are written `a .> b` with `replacing`, the form Swift vectorises.)
@inline(__always) private func exp8(_ x: Lanes) -> Lanes {
    let lo = Lanes(repeating: -87.3), hi = Lanes(repeating: 88.3)
    let under = lo .> x
    var x = x.replacing(with: lo, where: under)
    x = x.replacing(with: hi, where: x .> hi)
    let magic = Lanes(repeating: 12_582_912)
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    let r = x - n * 0.693_145_751_953_125 - n * 1.428_606_765_330_187e-6
    var p = Lanes(repeating: 1 / 720)
    p = p * r + 1 / 120
    p = p * r + 1 / 24
    p = p * r + 1 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return (p * unsafeBitCast(bits, to: Lanes.self)).replacing(with: 0, where: under)
}
