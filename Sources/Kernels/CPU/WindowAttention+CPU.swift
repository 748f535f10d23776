import Foundation

// CPU reference of kernels/window_attention.cl: one (window, head) at a time. Its q, k, v are gathered
// from the token tensor into scratch (k and v transposed, so every inner loop runs over the N keys),
// and one score row at a time is formed, normalised and used — the (N × N) matrix never exists.
// The backward recomputes each row from the stored log-sum-exp.
/// Tasks are (window, head) pairs split into at most this many fixed chunks; each chunk owns its partial
/// sums of the bias and pad-bias gradients, added in chunk order, so results do not depend on which core
/// ran which chunk.
private let attentionChunks = 8

extension CPUBackend {
    public func windowAttentionForward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor) throws {
        let ctx = try AttentionContext(self, a)
        let yp = try ptr(y, "windowAttention"), lp = try ptr(lse, "windowAttention")
        let (n, c, hd) = (ctx.n, ctx.c, ctx.hd)
        parallelFor(ctx.chunks) { chunk in
            let s = ScratchWindow(n: n, hd: hd)
            defer { s.free() }
            for task in ctx.tasks(chunk) {
                let (bw, h) = (task / a.heads, task % a.heads)
                ctx.gather(bw: bw, head: h, into: s)
                for i in 0..<n {
                    ctx.scores(row: i, bw: bw, head: h, s, into: s.row)
                    let m = vmax(s.row, n)
                    let sum = vexp(s.row, minus: m, n)
                    lp[task * n + i] = m + log(sum)
                    let src = ctx.sources[bw * n + i]
                    guard src >= 0 else { continue }
                    let inv = 1 / sum
                    for d in 0..<hd { yp[src * c + h * hd + d] = vdot(s.row, s.vt + d * n, n) * inv }
                }
            }
        }
    }

    public func windowAttentionBackward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor, dy: Tensor, dqkv: Tensor,
                                        dPadBias: Tensor, dBiasPerHead: Tensor) throws {
        let ctx = try AttentionContext(self, a)
        let lp = try ptr(lse, "windowAttention backward"), gp = try ptr(dy, "windowAttention backward")
        let dq = try ptr(dqkv, "windowAttention backward"), dpad = try ptr(dPadBias, "windowAttention backward")
        let dbias = try ptr(dBiasPerHead, "windowAttention backward")
        let (n, c, hd, heads) = (ctx.n, ctx.c, ctx.hd, a.heads)
        // Per chunk: bias gradient (heads, N, N), then the pad-bias gradient (3C).
        let partSize = heads * n * n + 3 * c
        let parts = UnsafeMutablePointer<Float>.allocate(capacity: ctx.chunks * partSize)
        defer { parts.deallocate() }
        parts.update(repeating: 0, count: ctx.chunks * partSize)
        parallelFor(ctx.chunks) { chunk in
            let s = ScratchWindow(n: n, hd: hd)
            defer { s.free() }
            let accBias = parts + chunk * partSize, accPad = accBias + heads * n * n
            for task in ctx.tasks(chunk) {
                let (bw, h) = (task / heads, task % heads)
                ctx.gather(bw: bw, head: h, into: s)
                for t in 0..<n {
                    let src = ctx.sources[bw * n + t]
                    for d in 0..<hd { s.dO[t * hd + d] = src >= 0 ? gp[src * c + h * hd + d] : 0 }
                }
                s.dkt.update(repeating: 0, count: hd * n)
                s.dvt.update(repeating: 0, count: hd * n)
                for i in 0..<n where ctx.sources[bw * n + i] >= 0 {   // a padded query has no upstream gradient
                    ctx.scores(row: i, bw: bw, head: h, s, into: s.row)
                    let l = lp[task * n + i]
                    _ = vexp(s.row, minus: l, n)                                          // P_ij
                    s.dp.update(repeating: 0, count: n)
                    for d in 0..<hd { vaxpy(s.dO[i * hd + d], s.vt + d * n, s.dp, n) } // dP_ij = dO_i · v_j
                    let rowDot = vdot(s.row, s.dp, n)
                    for d in 0..<hd { vaxpy(s.dO[i * hd + d], s.row, s.dvt + d * n, n) } // dV_j += P_ij dO_i
                    for j in 0..<n { s.dp[j] = s.row[j] * (s.dp[j] - rowDot) }          // dS_ij
                    vaxpy(1, s.dp, accBias + (h * n + i) * n, n)
                    for d in 0..<hd {
                        s.dq[i * hd + d] = vdot(s.dp, s.kt + d * n, n) * ctx.scale      // dQ_i = scale Σ dS k_j
                        vaxpy(s.q[i * hd + d], s.dp, s.dkt + d * n, n)                  // dK_j += dS (scale q_i)
                    }
                }
                for t in 0..<n {
                    let src = ctx.sources[bw * n + t]
                    for d in 0..<hd {
                        let (k, v) = (s.dkt[d * n + t], s.dvt[d * n + t])
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
        dpad.update(repeating: 0, count: 3 * c)
        for chunk in 0..<ctx.chunks {
            vaxpy(1, parts + chunk * partSize, dbias, heads * n * n)
            vaxpy(1, parts + chunk * partSize + heads * n * n, dpad, 3 * c)
        }
    }
}

/// What every (window, head) task of one call shares: pointers, the slot → token map, the gathered bias.
private struct AttentionContext: @unchecked Sendable {
    let n: Int, c: Int, hd: Int, heads: Int, nW: Int, scale: Float, chunks: Int, taskCount: Int
    let qkv: UnsafeMutablePointer<Float>, pad: UnsafeMutablePointer<Float>, region: UnsafeMutablePointer<Float>?
    /// Source token of every window slot (B·nW·N), −1 in the padding.
    let sources: [Int]
    /// The relative position bias of every (head, i, j): (heads, N, N).
    let bias: [Float]

    init(_ be: CPUBackend, _ a: WindowAttentionInputs) throws {
        let g = a.geometry
        n = g.tokens
        c = g.channels
        hd = a.headDim
        heads = a.heads
        nW = g.windowsPerSample
        scale = a.scale
        taskCount = g.batch * nW * heads
        chunks = min(attentionChunks, taskCount)
        qkv = try be.ptr(a.qkv, "windowAttention")
        pad = try be.ptr(a.padBias, "windowAttention")
        region = try a.region.map { try be.ptr($0, "windowAttention") }
        let (n, heads) = (n, heads)
        sources = (0..<(g.batch * nW * n)).map { be.windowSource(g, bw: $0 / n, n: $0 % n) ?? -1 }
        let tp = try be.ptr(a.table, "windowAttention"), ip = try be.ptr(a.relIndex, "windowAttention")
        var b = [Float](repeating: 0, count: heads * n * n)
        for h in 0..<heads { for i in 0..<n { for j in 0..<n {
            b[(h * n + i) * n + j] = tp[Int(ip[i * a.indexStride + j]) * heads + h]
        } } }
        bias = b
    }

    func tasks(_ chunk: Int) -> Range<Int> { (chunk * taskCount / chunks)..<((chunk + 1) * taskCount / chunks) }

    /// q (N, hd) pre-scaled, kᵀ and vᵀ (hd, N) of window bw, head h.
    func gather(bw: Int, head h: Int, into s: ScratchWindow) {
        for t in 0..<n {
            let src = sources[bw * n + t]
            let base = src >= 0 ? qkv + src * 3 * c : pad
            for d in 0..<hd {
                s.q[t * hd + d] = base[h * hd + d] * scale
                s.kt[d * n + t] = base[c + h * hd + d]
                s.vt[d * n + t] = base[2 * c + h * hd + d]
            }
        }
    }

    /// row[j] = (scale q_i) · k_j + bias(h, i, j) (− 100 across shift regions), MONAI's order of additions.
    func scores(row i: Int, bw: Int, head h: Int, _ s: ScratchWindow, into row: UnsafeMutablePointer<Float>) {
        row.update(repeating: 0, count: n)
        for d in 0..<hd { vaxpy(s.q[i * hd + d], s.kt + d * n, row, n) }
        bias.withUnsafeBufferPointer { b in
            let bi = b.baseAddress! + (h * n + i) * n
            for j in 0..<n { row[j] += bi[j] }
        }
        if let region {
            let r = region + (bw % nW) * n
            let own = r[i]
            for j in 0..<n where r[j] != own { row[j] += -100 }
        }
    }
}

/// Per-thread scratch of one (window, head): q, dO, dq (N, hd); kᵀ, vᵀ, dkᵀ, dvᵀ (hd, N); two rows (N).
private struct ScratchWindow {
    let q, dO, dq, kt, vt, dkt, dvt, row, dp: UnsafeMutablePointer<Float>
    private let base: UnsafeMutablePointer<Float>

    init(n: Int, hd: Int) {
        base = .allocate(capacity: 7 * n * hd + 2 * n)
        base.update(repeating: 0, count: 7 * n * hd + 2 * n)
        let m = n * hd
        (q, dO, dq, kt, vt, dkt, dvt) = (base, base + m, base + 2 * m, base + 3 * m, base + 4 * m, base + 5 * m, base + 6 * m)
        (row, dp) = (base + 7 * m, base + 7 * m + n)
    }

    func free() { base.deallocate() }
}

/// Σ a[j]·b[j], eight lanes at a time (a fixed order: deterministic).
@inline(__always) private func vdot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= n {
        acc += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
        j += 8
    }
    var s = acc.sum()
    while j < n { s += a[j] * b[j]; j += 1 }
    return s
}

/// y[j] += alpha·x[j].
@inline(__always) private func vaxpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var j = 0
    let av = SIMD8<Float>(repeating: alpha)
    while j + 8 <= n {
        let yv = UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        let r = yv + av * UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + j).storeBytes(of: r, as: SIMD8<Float>.self)
        j += 8
    }
    while j < n { y[j] += alpha * x[j]; j += 1 }
}

/// max_j x[j].
@inline(__always) private func vmax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: -.infinity)
    var j = 0
    while j + 8 <= n {
        acc = pointwiseMax(acc, UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self))
        j += 8
    }
    var m = acc.max()
    while j < n { m = max(m, x[j]); j += 1 }
    return m
}

/// x[j] = exp(x[j] − shift) in place; returns Σ_j of the results (lanes summed in a fixed order).
@inline(__always) private func vexp(_ x: UnsafeMutablePointer<Float>, minus shift: Float, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var j = 0
    let sv = SIMD8<Float>(repeating: shift)
    while j + 8 <= n {
        let e = exp8(UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) - sv)
        UnsafeMutableRawPointer(x + j).storeBytes(of: e, as: SIMD8<Float>.self)
        acc += e
        j += 8
    }
    var s = acc.sum()
    while j < n { let e = exp(x[j] - shift); x[j] = e; s += e; j += 1 }
    return s
}

/// e^x for eight lanes: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its degree-6
/// Taylor polynomial (relative error < 2e-7, about 2 ulp), times 2^n built in the exponent bits.
/// Inputs are clamped to [−87.3, 88.3], where 2^n stays a normal float (e^−87.3 ≈ 1e−38 stands for 0).
/// Adding 1.5·2^23 rounds x·log2(e) to the integer n and leaves n in the sum's low mantissa bits.
@inline(__always) private func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let x = pointwiseMin(pointwiseMax(x, SIMD8(repeating: -87.3)), SIMD8(repeating: 88.3))
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    let r = x - n * 0.693_145_751_953_125 - n * 1.428_606_765_330_187e-6
    var p = SIMD8<Float>(repeating: 1 / 720)
    p = p * r + 1 / 120
    p = p * r + 1 / 24
    p = p * r + 1 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: SIMD8<Float>.self)
}
