extension CPUBackend {
    public func im2col(x: Tensor, xOffset: Int, geometry g: ConvGeometry, d0: Int, nd: Int, col: Tensor) throws {
        let xp = try ptr(x, "im2col") + xOffset, cp = try ptr(col, "im2col")
        let o = g.output, (D, H, W) = g.input
        let ncol = nd * o.h * o.w
        var r = 0
        for c in 0..<g.channels {
            for kd in 0..<g.kernel.d {
                for kh in 0..<g.kernel.h {
                    for kw in 0..<g.kernel.w {
                        var j = r * ncol
                        for od in d0..<(d0 + nd) {
                            let id = od * g.stride.d - g.padding.d + kd
                            for oh in 0..<o.h {
                                let ih = oh * g.stride.h - g.padding.h + kh
                                let rowOK = id >= 0 && id < D && ih >= 0 && ih < H
                                let base = ((c * D + id) * H + ih) * W
                                for ow in 0..<o.w {
                                    let iw = ow * g.stride.w - g.padding.w + kw
                                    cp[j] = rowOK && iw >= 0 && iw < W ? xp[base + iw] : 0
                                    j += 1
                                }
                            }
                        }
                        r += 1
                    }
                }
            }
        }
    }

    public func col2im(col: Tensor, geometry g: ConvGeometry, d0: Int, nd: Int, dx: Tensor, dxOffset: Int) throws {
        // Scatter form; the OpenCL kernel gathers. Same sums, different order.
        let cp = try ptr(col, "col2im"), dp = try ptr(dx, "col2im") + dxOffset
        let o = g.output, (D, H, W) = g.input
        let ncol = nd * o.h * o.w
        var r = 0
        for c in 0..<g.channels {
            for kd in 0..<g.kernel.d {
                for kh in 0..<g.kernel.h {
                    for kw in 0..<g.kernel.w {
                        var j = r * ncol
                        for od in d0..<(d0 + nd) {
                            let id = od * g.stride.d - g.padding.d + kd
                            for oh in 0..<o.h {
                                let ih = oh * g.stride.h - g.padding.h + kh
                                let rowOK = id >= 0 && id < D && ih >= 0 && ih < H
                                let base = ((c * D + id) * H + ih) * W
                                for ow in 0..<o.w {
                                    let iw = ow * g.stride.w - g.padding.w + kw
                                    if rowOK && iw >= 0 && iw < W { dp[base + iw] += cp[j] }
                                    j += 1
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
