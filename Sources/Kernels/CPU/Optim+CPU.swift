extension CPUBackend {
    public func adamwStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, range: Range<Int>, hyper h: AdamWHyper,
                          step: Int, gate: Tensor?) throws {
        if let gate, try ptr(gate, "adamw gate")[0] == 0 { return }
        let o = range.lowerBound
        let pp = try ptr(p, "adamw") + o, gp = try ptr(g, "adamw") + o, mp = try ptr(m, "adamw") + o, vp = try ptr(v, "adamw") + o
        let (bc1, bc2Sqrt) = h.corrections(step: step)
        parallelRanges(range.count, grain: elementGrain) { r in for i in r {
            let gi = gp[i]
            var pi = pp[i] * (1 - h.lr * h.weightDecay)
            let mi = h.beta1 * mp[i] + (1 - h.beta1) * gi
            let vi = h.beta2 * vp[i] + (1 - h.beta2) * gi * gi
            mp[i] = mi
            vp[i] = vi
            pi -= (h.lr / bc1) * mi / (vi.squareRoot() / bc2Sqrt + h.eps)
            pp[i] = pi
        } }
    }

    public func finiteGate(values: Tensor, gate: Tensor) throws {
        let v = try ptr(values, "finite gate"), g = try ptr(gate, "finite gate")
        let ok = g[0] != 0 && (0..<values.count).allSatisfy { v[$0].isFinite }
        g[0] = ok ? 1 : 0
    }
}
