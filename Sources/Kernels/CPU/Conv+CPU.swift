import Foundation

extension CPUBackend {
    public func convForward(input: Tensor, inOffset: Int, samples: Int, geometry: ConvGeometry, weight: Tensor,
                            outChannels: Int, out: Tensor, outOffset: Int) throws {
        try im2colConvForward(input: input, inOffset: inOffset, samples: samples, geometry: geometry, weight: weight,
                              outChannels: outChannels, out: out, outOffset: outOffset)
    }

    public func im2col(x: Tensor, xOffset: Int, geometry g: ConvGeometry, d0: Int, nd: Int, samples: Int,
                       col: Tensor) throws {
        let xp = try ptr(x, "im2col"), cp = try ptr(col, "im2col")
        let perSample = g.channels * g.kernelVolume * nd * g.output.h * g.output.w
        for s in 0..<samples {
            im2colSample(xp + xOffset + s * g.channels * g.inputVolume, g, d0, nd, cp + s * perSample)
        }
    }

    private func im2colSample(_ xp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, _ d0: Int, _ nd: Int,
                              _ cp: UnsafeMutablePointer<Float>) {
        let o = g.output, (D, H, W) = g.input
        let ncol = nd * o.h * o.w
        // Channels write disjoint rows of col: split them across the cores.
        parallelFor(g.channels) { c in
            var r = c * g.kernelVolume
            for kd in 0..<g.kernel.d {
                for kh in 0..<g.kernel.h {
                    for kw in 0..<g.kernel.w {
                        var j = r * ncol
                        for od in d0..<(d0 + nd) {
                            let id = od * g.stride.d - g.padding.d + kd
                            for oh in 0..<o.h {
                                let ih = oh * g.stride.h - g.padding.h + kh
                                let dst = cp + j
                                j += o.w
                                guard id >= 0 && id < D && ih >= 0 && ih < H else {
                                    dst.update(repeating: 0, count: o.w)
                                    continue
                                }
                                let src = xp + ((c * D + id) * H + ih) * W
                                if g.stride.w == 1 {
                                    // Contiguous run: zeros where the window leaves the row, a copy in between.
                                    let lo = max(0, g.padding.w - kw), hi = min(o.w, W + g.padding.w - kw)
                                    if lo > 0 { dst.update(repeating: 0, count: min(lo, o.w)) }
                                    if hi > lo { (dst + lo).update(from: src + lo - g.padding.w + kw, count: hi - lo) }
                                    if hi < o.w { (dst + max(hi, 0)).update(repeating: 0, count: o.w - max(hi, 0)) }
                                } else {
                                    for ow in 0..<o.w {
                                        let iw = ow * g.stride.w - g.padding.w + kw
                                        dst[ow] = iw >= 0 && iw < W ? src[iw] : 0
                                    }
                                }
                            }
                        }
                        r += 1
                    }
                }
            }
        }
    }

    public func col2im(col: Tensor, geometry g: ConvGeometry, d0: Int, nd: Int, samples: Int, dx: Tensor, dxOffset: Int,
                       fresh: Int, last: Bool) throws {
        let cp = try ptr(col, "col2im"), dp = try ptr(dx, "col2im")
        let perSample = g.channels * g.kernelVolume * nd * g.output.h * g.output.w
        for s in 0..<samples {
            col2imSample(cp + s * perSample, g, d0, nd, dp + dxOffset + s * g.channels * g.inputVolume, fresh, last)
        }
    }

    private func col2imSample(_ cp: UnsafeMutablePointer<Float>, _ g: ConvGeometry, _ d0: Int, _ nd: Int,
                              _ dp: UnsafeMutablePointer<Float>, _ fresh: Int, _ last: Bool) {
        // Scatter form; the OpenCL kernel gathers. Same sums, different order. The depths this call overwrites are
        // zeroed first, then everything is added.
        let o = g.output, (D, H, W) = g.input
        let ncol = nd * o.h * o.w
        let written = g.col2imLaunchDepths(d0: d0, nd: nd, fresh: fresh, last: last)
        let first = max(fresh, written.lowerBound)
        let cleared = first..<max(first, written.upperBound)
        // Each channel folds into its own plane of dx: split channels across the cores.
        parallelFor(g.channels) { c in
            if !cleared.isEmpty { (dp + (c * D + cleared.lowerBound) * H * W).update(repeating: 0, count: cleared.count * H * W) }
            var r = c * g.kernelVolume
            for kd in 0..<g.kernel.d {
                for kh in 0..<g.kernel.h {
                    for kw in 0..<g.kernel.w {
                        var j = r * ncol
                        for od in d0..<(d0 + nd) {
                            let id = od * g.stride.d - g.padding.d + kd
                            for oh in 0..<o.h {
                                let ih = oh * g.stride.h - g.padding.h + kh
                                let src = cp + j
                                j += o.w
                                guard id >= 0 && id < D && ih >= 0 && ih < H else { continue }
                                let row = dp + ((c * D + id) * H + ih) * W
                                if g.stride.w == 1 {
                                    // Contiguous run (vectorised): the part of the window row inside the input.
                                    let lo = max(0, g.padding.w - kw), hi = min(o.w, W + g.padding.w - kw)
                                    if hi > lo {
                                        let d = row - g.padding.w + kw
                                        for ow in lo..<hi { d[ow] += src[ow] }
                                    }
                                } else {
                                    for ow in 0..<o.w {
                                        let iw = ow * g.stride.w - g.padding.w + kw
                                        if iw >= 0 && iw < W { row[iw] += src[ow] }
                                    }
                                }
                            }
                        }
                        r += 1
                    }
                }
            }
        }
    }
}
