import Foundation

extension CPUBackend {
    public func diceCEForward(logits: Tensor, labels: Tensor, dims: Dims3, options o: DiceCEOptions, probs: Tensor,
                              sums: Tensor, loss: Tensor) throws {
        let (B, C, S) = (dims.outer, dims.mid, dims.inner)
        let lp = try ptr(logits, "diceCE"), yp = try ptr(labels, "diceCE"), pp = try ptr(probs, "diceCE")
        let sp = try ptr(sums, "diceCE"), out = try ptr(loss, "diceCE")
        var ce: Double = 0
        for b in 0..<B {
            for s in 0..<S {
                let base = b * C * S + s
                var m = -Float.infinity
                for c in 0..<C { m = max(m, lp[base + c * S]) }
                var sum: Float = 0
                for c in 0..<C { let e = exp(lp[base + c * S] - m); pp[base + c * S] = e; sum += e }
                for c in 0..<C { pp[base + c * S] /= sum }
                ce += Double(log(sum) + m - lp[base + Int(yp[b * S + s]) * S])
            }
        }
        var dice: Double = 0
        for b in 0..<B {
            for c in 0..<C {
                var i: Double = 0, p: Double = 0, g: Double = 0
                for s in 0..<S {
                    let pr = Double(pp[(b * C + c) * S + s]), y: Double = Int(yp[b * S + s]) == c ? 1 : 0
                    i += pr * y; p += pr; g += y
                }
                let k = 3 * (b * C + c)
                sp[k] = Float(i); sp[k + 1] = Float(p); sp[k + 2] = Float(g)
                dice += 1 - (2 * i + Double(o.smoothNr)) / (p + g + Double(o.smoothDr))
            }
        }
        let d = dice / Double(B * C), c = ce / Double(B * S)
        out[0] = Float(Double(o.lambdaDice) * d + Double(o.lambdaCE) * c)
        out[1] = Float(d)
        out[2] = Float(c)
    }

    public func diceCEBackward(probs: Tensor, labels: Tensor, sums: Tensor, upstream: Tensor, dims: Dims3,
                               options o: DiceCEOptions, dlogits: Tensor) throws {
        let (B, C, S) = (dims.outer, dims.mid, dims.inner)
        let pp = try ptr(probs, "diceCEBackward"), yp = try ptr(labels, "diceCEBackward")
        let sp = try ptr(sums, "diceCEBackward"), gp = try ptr(upstream, "diceCEBackward"), dp = try ptr(dlogits, "diceCEBackward")
        let wd = o.lambdaDice / Float(B * C), wc = o.lambdaCE / Float(B * S), g = gp[0]
        var dps = [Float](repeating: 0, count: C)
        for b in 0..<B {
            for s in 0..<S {
                let base = b * C * S + s, t = Int(yp[b * S + s])
                var dot: Float = 0
                for c in 0..<C {
                    let k = 3 * (b * C + c)
                    let num = 2 * sp[k] + o.smoothNr, den = sp[k + 1] + sp[k + 2] + o.smoothDr
                    let y: Float = c == t ? 1 : 0
                    dps[c] = -wd * (2 * y * den - num) / (den * den)
                    dot += dps[c] * pp[base + c * S]
                }
                for c in 0..<C {
                    let p = pp[base + c * S], y: Float = c == t ? 1 : 0
                    dp[base + c * S] = g * (p * (dps[c] - dot) + wc * (p - y))
                }
            }
        }
    }
}
