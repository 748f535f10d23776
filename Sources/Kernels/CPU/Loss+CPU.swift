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
        for b in 0..<B {
            for c in 0..<C {
                var i: Double = 0, p: Double = 0, g: Double = 0
                for s in 0..<S {
                    let pr = Double(pp[(b * C + c) * S + s]), y: Double = Int(yp[b * S + s]) == c ? 1 : 0
                    i += pr * y; p += pr; g += y
                }
                let k = 3 * (b * C + c)
                sp[k] = Float(i); sp[k + 1] = Float(p); sp[k + 2] = Float(g)
            }
        }
        // With batch Dice every sample holds the same C terms: count them once.
        let terms = o.batch ? C : B * C, table = diceTerms(sp, B: B, C: C, o)
        var dice: Double = 0
        for k in 0..<terms { dice += Double(1 - table[k].num / table[k].den) }
        let d = dice / Double(terms), c = ce / Double(B * S)
        out[0] = Float(Double(o.lambdaDice) * d + Double(o.lambdaCE) * c)
        out[1] = Float(d)
        out[2] = Float(c)
    }

    public func diceCEBackward(probs: Tensor, labels: Tensor, sums: Tensor, upstream: Tensor, dims: Dims3,
                               options o: DiceCEOptions, dlogits: Tensor) throws {
        let (B, C, S) = (dims.outer, dims.mid, dims.inner)
        let pp = try ptr(probs, "diceCEBackward"), yp = try ptr(labels, "diceCEBackward")
        let sp = try ptr(sums, "diceCEBackward"), gp = try ptr(upstream, "diceCEBackward"), dp = try ptr(dlogits, "diceCEBackward")
        let wd = o.lambdaDice / Float(o.batch ? C : B * C), wc = o.lambdaCE / Float(B * S), g = gp[0]
        let table = diceTerms(sp, B: B, C: C, o)
        var dps = [Float](repeating: 0, count: C)
        for b in 0..<B {
            for s in 0..<S {
                let base = b * C * S + s, t = Int(yp[b * S + s])
                var dot: Float = 0
                for c in 0..<C {
                    let (num, den) = table[b * C + c]
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

/// 2I + nr and P + G + dr of each (b, c) Dice term, indexed b·C + c, from the per-(b, c) sums: sample b's own,
/// or with `batch` the sums over the whole batch (the same for every b; kernels/loss.cl dice_terms).
private func diceTerms(_ sums: UnsafeMutablePointer<Float>, B: Int, C: Int, _ o: DiceCEOptions) -> [(num: Float, den: Float)] {
    (0..<(B * C)).map { bc in
        let (b, c) = (bc / C, bc % C)
        var i: Float = 0, p: Float = 0, g: Float = 0
        for k in o.batch ? 0..<B : b..<(b + 1) {
            let j = 3 * (k * C + c)
            i += sums[j]; p += sums[j + 1]; g += sums[j + 2]
        }
        return (2 * i + o.smoothNr, p + g + o.smoothDr)
    }
}

// Row losses: references for kernels/loss.cl cross_entropy_rows*, row_l2_normalize*.
extension CPUBackend {
    public func crossEntropyRows(logits: Tensor, targets: Tensor, probs: Tensor, rowLoss: Tensor, rows: Int,
                                 cols: Int) throws {
        let x = try ptr(logits, "crossEntropy"), t = try ptr(targets, "crossEntropy")
        let p = try ptr(probs, "crossEntropy"), l = try ptr(rowLoss, "crossEntropy")
        for n in 0..<rows {
            let base = n * cols
            var m = -Float.infinity
            for c in 0..<cols { m = max(m, x[base + c]) }
            var sum: Float = 0
            for c in 0..<cols { let e = exp(x[base + c] - m); p[base + c] = e; sum += e }
            let lse = log(sum) + m
            var loss: Float = 0
            for c in 0..<cols {
                p[base + c] /= sum
                if t[base + c] != 0 { loss -= t[base + c] * (x[base + c] - lse) }
            }
            l[n] = loss
        }
    }

    public func crossEntropyRowsBackward(probs: Tensor, targets: Tensor, upstream: Tensor, scale: Float,
                                         dlogits: Tensor) throws {
        let p = try ptr(probs, "crossEntropyBackward"), t = try ptr(targets, "crossEntropyBackward")
        let g = try ptr(upstream, "crossEntropyBackward")[0] * scale, d = try ptr(dlogits, "crossEntropyBackward")
        for i in 0..<probs.count { d[i] = g * (p[i] - t[i]) }
    }

    public func rowNormalize(x: Tensor, y: Tensor, norms: Tensor, rows: Int, cols: Int, eps: Float) throws {
        let xp = try ptr(x, "rowNormalize"), yp = try ptr(y, "rowNormalize"), np = try ptr(norms, "rowNormalize")
        for n in 0..<rows {
            let base = n * cols
            var s: Float = 0
            for d in 0..<cols { s += xp[base + d] * xp[base + d] }
            let norm = s.squareRoot(), inv = 1 / max(norm, eps)
            for d in 0..<cols { yp[base + d] = xp[base + d] * inv }
            np[n] = norm
        }
    }

    public func rowNormalizeBackward(y: Tensor, norms: Tensor, dy: Tensor, dx: Tensor, rows: Int, cols: Int,
                                     eps: Float) throws {
        let yp = try ptr(y, "rowNormalizeBackward"), np = try ptr(norms, "rowNormalizeBackward")
        let g = try ptr(dy, "rowNormalizeBackward"), d = try ptr(dx, "rowNormalizeBackward")
        for n in 0..<rows {
            let base = n * cols, norm = np[n]
            if norm <= eps {
                for k in 0..<cols { d[base + k] = g[base + k] / eps }
                continue
            }
            var dot: Float = 0
            for k in 0..<cols { dot += yp[base + k] * g[base + k] }
            for k in 0..<cols { d[base + k] = (g[base + k] - yp[base + k] * dot) / norm }
        }
    }
}
