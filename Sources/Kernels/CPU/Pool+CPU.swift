extension CPUBackend {
    public func maxPool2d(x: Tensor, geometry g: PoolGeometry, y: Tensor, argmax: Tensor) throws {
        let xp = try ptr(x, "maxPool2d"), yp = try ptr(y, "maxPool2d"), ap = try ptr(argmax, "maxPool2d")
        let (H, W) = g.input, (Ho, Wo) = g.output
        // Planes are independent: split them across the cores.
        parallelFor(g.planes) { p in
            for oh in 0..<Ho {
                for ow in 0..<Wo {
                    var m = -Float.infinity, best = -1
                    for kh in 0..<g.kernel.h {
                        let ih = oh * g.stride.h - g.padding.h + kh
                        guard ih >= 0 && ih < H else { continue }
                        for kw in 0..<g.kernel.w {
                            let iw = ow * g.stride.w - g.padding.w + kw
                            guard iw >= 0 && iw < W else { continue }
                            let v = xp[(p * H + ih) * W + iw]
                            if best < 0 || v > m || v.isNaN { m = v; best = ih * W + iw }
                        }
                    }
                    let o = (p * Ho + oh) * Wo + ow
                    yp[o] = m
                    ap[o] = Float(best)
                }
            }
        }
    }

    public func maxPool2dBackward(dy: Tensor, argmax: Tensor, geometry g: PoolGeometry, dx: Tensor) throws {
        let gp = try ptr(dy, "maxPool2dBackward"), ap = try ptr(argmax, "maxPool2dBackward")
        let dp = try ptr(dx, "maxPool2dBackward")
        let (H, W) = g.input, (Ho, Wo) = g.output
        dp.update(repeating: 0, count: dx.count)
        parallelFor(g.planes) { p in   // each plane adds into its own input plane
            for o in 0..<(Ho * Wo) {
                let i = (p * Ho * Wo) + o
                dp[p * H * W + Int(ap[i])] += gp[i]
            }
        }
    }

    private func avgDivisor(_ g: PoolGeometry, _ oh: Int, _ ow: Int, _ includePad: Bool) -> Float {
        var h0 = oh * g.stride.h - g.padding.h, w0 = ow * g.stride.w - g.padding.w
        var h1 = min(h0 + g.kernel.h, g.input.h + g.padding.h), w1 = min(w0 + g.kernel.w, g.input.w + g.padding.w)
        let padded = (h1 - h0) * (w1 - w0)
        h0 = max(h0, 0); w0 = max(w0, 0); h1 = min(h1, g.input.h); w1 = min(w1, g.input.w)
        return Float(includePad ? padded : (h1 - h0) * (w1 - w0))
    }

    /// Visits every (output index, input index) pair of a windowed 2D pool, the planes split across the cores (`f`
    /// must only touch the plane it is given).
    private func forEachWindow(_ g: PoolGeometry, _ f: (Int, Int, Int, Int) -> Void) {
        let (H, W) = g.input, (Ho, Wo) = g.output
        parallelFor(g.planes) { p in
            for oh in 0..<Ho {
                for ow in 0..<Wo {
                    for kh in 0..<g.kernel.h {
                        let ih = oh * g.stride.h - g.padding.h + kh
                        guard ih >= 0 && ih < H else { continue }
                        for kw in 0..<g.kernel.w {
                            let iw = ow * g.stride.w - g.padding.w + kw
                            guard iw >= 0 && iw < W else { continue }
                            f((p * Ho + oh) * Wo + ow, (p * H + ih) * W + iw, oh, ow)
                        }
                    }
                }
            }
        }
    }

    public func avgPool2d(x: Tensor, geometry g: PoolGeometry, countIncludePad: Bool, y: Tensor) throws {
        let xp = try ptr(x, "avgPool2d"), yp = try ptr(y, "avgPool2d")
        yp.update(repeating: 0, count: y.count)
        forEachWindow(g) { o, i, _, _ in yp[o] += xp[i] }
        let plane = g.output.h * g.output.w
        let divisors = (0..<plane).map { avgDivisor(g, $0 / g.output.w, $0 % g.output.w, countIncludePad) }
        parallelFor(g.planes) { p in for q in 0..<plane { yp[p * plane + q] /= divisors[q] } }
    }

    public func avgPool2dBackward(dy: Tensor, geometry g: PoolGeometry, countIncludePad: Bool, dx: Tensor) throws {
        let gp = try ptr(dy, "avgPool2dBackward"), dp = try ptr(dx, "avgPool2dBackward")
        dp.update(repeating: 0, count: dx.count)
        forEachWindow(g) { o, i, oh, ow in dp[i] += gp[o] / avgDivisor(g, oh, ow, countIncludePad) }
    }

    private func bins(_ o: Int, _ nIn: Int, _ nOut: Int) -> Range<Int> {
        (o * nIn) / nOut ..< ((o + 1) * nIn + nOut - 1) / nOut
    }

    public func adaptiveAvgPool2d(x: Tensor, geometry g: PoolGeometry, y: Tensor) throws {
        let xp = try ptr(x, "adaptiveAvgPool2d"), yp = try ptr(y, "adaptiveAvgPool2d")
        let (H, W) = g.input, (Ho, Wo) = g.output
        for p in 0..<g.planes {
            for oh in 0..<Ho {
                for ow in 0..<Wo {
                    let rh = bins(oh, H, Ho), rw = bins(ow, W, Wo)
                    var s: Float = 0
                    for ih in rh { for iw in rw { s += xp[(p * H + ih) * W + iw] } }
                    yp[(p * Ho + oh) * Wo + ow] = s / Float(rh.count * rw.count)
                }
            }
        }
    }

    public func adaptiveAvgPool2dBackward(dy: Tensor, geometry g: PoolGeometry, dx: Tensor) throws {
        let gp = try ptr(dy, "adaptiveAvgPool2dBackward"), dp = try ptr(dx, "adaptiveAvgPool2dBackward")
        let (H, W) = g.input, (Ho, Wo) = g.output
        dp.update(repeating: 0, count: dx.count)
        for p in 0..<g.planes {
            for oh in 0..<Ho {
                for ow in 0..<Wo {
                    let rh = bins(oh, H, Ho), rw = bins(ow, W, Wo)
                    let v = gp[(p * Ho + oh) * Wo + ow] / Float(rh.count * rw.count)
                    for ih in rh { for iw in rw { dp[(p * H + ih) * W + iw] += v } }
                }
            }
        }
    }
}
