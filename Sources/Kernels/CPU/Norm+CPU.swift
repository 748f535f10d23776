import Foundation

extension CPUBackend {
    /// Visits the elements of group b of x viewed as `dims`: f(flat index, column c).
    @inline(__always)
    private func forEach(in b: Int, _ dims: Dims3, _ f: (Int, Int) -> Void) {
        for a in 0..<dims.outer {
            let row = (a * dims.mid + b) * dims.inner
            for c in 0..<dims.inner { f(row + c, c) }
        }
    }

    /// Splits the groups 0..<dims.mid across the cores (each group is computed alone: the split does not
    /// change a result).
    private func forGroups(_ dims: Dims3, _ body: (Int) -> Void) {
        parallelRanges(dims.mid, grain: max(1, elementGrain / max(dims.outer * dims.inner, 1))) { r in for b in r { body(b) } }
    }

    private func affineIndex(_ affine: NormAffine, _ b: Int, _ c: Int) -> Int {
        if case let .perRow(g) = affine { return b % g }
        return c
    }

    public func normalize(x: Tensor, dims: Dims3, eps: Float, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                          activation: FusedActivation, mean: Tensor, variance: Tensor, rstd: Tensor, y: Tensor) throws {
        try normStats(x: x, dims: dims, eps: eps, mean: mean, variance: variance, rstd: rstd)
        try normApply(x: x, mean: mean, rstd: rstd, affine: affine, gamma: gamma, beta: beta, activation: activation,
                      dims: dims, y: y)
    }

    private func normStats(x: Tensor, dims: Dims3, eps: Float, mean: Tensor, variance: Tensor, rstd: Tensor) throws {
        let xp = try ptr(x, "normStats")
        let mp = try ptr(mean, "normStats"), vp = try ptr(variance, "normStats"), rp = try ptr(rstd, "normStats")
        let m = Double(dims.outer * dims.inner)
        forGroups(dims) { b in
            var s: Double = 0
            forEach(in: b, dims) { i, _ in s += Double(xp[i]) }
            let mu = s / m
            var q: Double = 0
            forEach(in: b, dims) { i, _ in let d = Double(xp[i]) - mu; q += d * d }
            let v = q / m
            mp[b] = Float(mu); vp[b] = Float(v); rp[b] = Float(1 / (v + Double(eps)).squareRoot())
        }
    }

    public func normApply(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                          activation: FusedActivation, dims: Dims3, y: Tensor) throws {
        let xp = try ptr(x, "normApply"), yp = try ptr(y, "normApply")
        let mp = try ptr(mean, "normApply"), rp = try ptr(rstd, "normApply")
        let gp = try gamma.map { try ptr($0, "normApply") }, bp = try beta.map { try ptr($0, "normApply") }
        forGroups(dims) { b in
            forEach(in: b, dims) { i, c in
                var v = (xp[i] - mp[b]) * rp[b]
                if let gp, let bp, affine != .none { let k = affineIndex(affine, b, c); v = v * gp[k] + bp[k] }
                yp[i] = activation.apply(v)
            }
        }
    }

    public func normBackwardSums(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                                 activation: FusedActivation, dy: Tensor, dims: Dims3, s1: Tensor, s2: Tensor) throws {
        let xp = try ptr(x, "normBackward"), g = try ptr(dy, "normBackward")
        let mp = try ptr(mean, "normBackward"), rp = try ptr(rstd, "normBackward")
        let gp = try gamma.map { try ptr($0, "normBackward") }
        let p1 = try ptr(s1, "normBackward"), p2 = try ptr(s2, "normBackward")
        forGroups(dims) { b in
            var a1: Double = 0, a2: Double = 0
            forEach(in: b, dims) { i, c in
                let w: Float = (gp != nil && affine != .none) ? gp![affineIndex(affine, b, c)] : 1
                let xhat = (xp[i] - mp[b]) * rp[b]
                let d = Double(g[i] * activation.derivative(xhat) * w)
                a1 += d
                a2 += d * Double(xhat)
            }
            p1[b] = Float(a1); p2[b] = Float(a2)
        }
    }

    public func normBackward(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                             activation: FusedActivation, dy: Tensor, dims: Dims3, constantStats: Bool, s1: Tensor,
                             s2: Tensor, dx: Tensor, accumulate: Bool) throws {
        if !constantStats {
            try normBackwardSums(x: x, mean: mean, rstd: rstd, affine: affine, gamma: gamma, activation: activation,
                                 dy: dy, dims: dims, s1: s1, s2: s2)
        }
        try normBackwardInput(x: x, mean: mean, rstd: rstd, affine: affine, gamma: gamma, activation: activation, dy: dy,
                              s1: s1, s2: s2, dims: dims, constantStats: constantStats, dx: dx, accumulate: accumulate)
    }

    private func normBackwardInput(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                                   activation: FusedActivation, dy: Tensor, s1: Tensor, s2: Tensor, dims: Dims3,
                                   constantStats: Bool, dx: Tensor, accumulate: Bool) throws {
        let xp = try ptr(x, "normBackward"), g = try ptr(dy, "normBackward"), d = try ptr(dx, "normBackward")
        let mp = try ptr(mean, "normBackward"), rp = try ptr(rstd, "normBackward")
        let gp = try gamma.map { try ptr($0, "normBackward") }
        let p1 = try ptr(s1, "normBackward"), p2 = try ptr(s2, "normBackward")
        let invM = 1 / Float(dims.outer * dims.inner)
        forGroups(dims) { b in
            forEach(in: b, dims) { i, c in
                let w: Float = (gp != nil && affine != .none) ? gp![affineIndex(affine, b, c)] : 1
                let xhat = (xp[i] - mp[b]) * rp[b]
                let dyg = g[i] * activation.derivative(xhat) * w
                let v = constantStats ? rp[b] * dyg : rp[b] * (dyg - (p1[b] + xhat * p2[b]) * invM)
                d[i] = accumulate ? d[i] + v : v
            }
        }
    }

    public func normColumnParamGrads(x: Tensor, mean: Tensor, rstd: Tensor, dy: Tensor, dims: Dims3,
                                     dgamma: Tensor, dbeta: Tensor, accumulate: Bool) throws {
        let xp = try ptr(x, "normParamGrads"), g = try ptr(dy, "normParamGrads")
        let mp = try ptr(mean, "normParamGrads"), rp = try ptr(rstd, "normParamGrads")
        let dg = try ptr(dgamma, "normParamGrads"), db = try ptr(dbeta, "normParamGrads")
        // Columns are independent: split them across the cores (each sums its rows in a fixed order).
        parallelRanges(dims.inner, grain: 1) { columns in
            for c in columns {
                var sg: Double = 0, sb: Double = 0
                for b in 0..<dims.mid {
                    let i = b * dims.inner + c
                    sg += Double(g[i] * (xp[i] - mp[b]) * rp[b])
                    sb += Double(g[i])
                }
                if accumulate {
                    dg[c] += Float(sg); db[c] += Float(sb)
                } else {
                    dg[c] = Float(sg); db[c] = Float(sb)
                }
            }
        }
    }
}
