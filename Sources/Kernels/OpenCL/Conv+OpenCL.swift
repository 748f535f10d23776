// Launchers for kernels/conv.cl.
extension OpenCLBackend {
    private func geometryArgs(_ g: ConvGeometry) -> [Arg] {
        let o = g.output
        return [g.channels, g.input.d, g.input.h, g.input.w, o.d, o.h, o.w, g.kernel.d, g.kernel.h, g.kernel.w,
                g.stride.d, g.stride.h, g.stride.w, g.padding.d, g.padding.h, g.padding.w].map { .int($0) }
    }

    public func im2col(x: Tensor, xOffset: Int, geometry g: ConvGeometry, d0: Int, nd: Int, samples: Int,
                       col: Tensor) throws {
        let perSample = g.channels * g.kernelVolume * nd * g.output.h * g.output.w, total = samples * perSample
        try Check.that(total < Int(Int32.max), "im2col", "a column slab of \(total) values exceeds the 32-bit index range")
        // Writes the columns; reads each input value of the slab once (the K-fold reuse is the cache's).
        let cost = KernelCost(flops: 0, bytes: 4 * Double(perSample) * (1 + 1 / Double(g.kernelVolume)))
        // One launch per sample: a sample index in the kernel costs a division per element (PoCL: im2col 1.7× slower).
        for s in 0..<samples {
            try launch(.im2col, defines: .conv(g), global: perSample, cost: cost,
                       [.buffer(x), .int(xOffset + s * g.channels * g.inputVolume), .buffer(col), .int(s * perSample)]
                       + geometryArgs(g) + [.int(d0), .int(nd)])
        }
    }

    public func convForward(input: Tensor, inOffset: Int, samples: Int, geometry g: ConvGeometry, weight: Tensor,
                            outChannels: Int, out: Tensor, outOffset: Int) throws {
        switch convAlgorithm {
        case .im2col:
            try im2colConvForward(input: input, inOffset: inOffset, samples: samples, geometry: g, weight: weight,
                                  outChannels: outChannels, out: out, outOffset: outOffset)
        case .implicitGEMM:
            // Tiles of 32 output channels × 64 output voxels, one work-group of 128 each (kernels/conv.cl).
            let groups = (g.outputVolume + 63) / 64 * ((outChannels + 31) / 32)
            for s in 0..<samples {
                try launch(.conv_forward_implicit, defines: .conv(g), global: groups * 128, local: 128,
                           [.buffer(input), .int(inOffset + s * g.channels * g.inputVolume), .buffer(weight), .buffer(out),
                            .int(outOffset + s * outChannels * g.outputVolume), .int(outChannels)] + geometryArgs(g))
            }
        }
    }

    public func col2im(col: Tensor, geometry g: ConvGeometry, d0: Int, nd: Int, samples: Int, dx: Tensor, dxOffset: Int,
                       fresh: Int, last: Bool) throws {
        let depths = g.col2imLaunchDepths(d0: d0, nd: nd, fresh: fresh, last: last)
        guard !depths.isEmpty else { return }
        let nid = depths.count, perSample = g.channels * g.kernelVolume * nd * g.output.h * g.output.w
        let cols = Double(perSample), inputs = Double(g.channels * nid * g.input.h * g.input.w)
        for s in 0..<samples {
            try launch(.col2im, defines: .conv(g), global: g.channels * nid * g.input.h * g.input.w,
                       cost: KernelCost(flops: cols, bytes: 4 * (cols + 2 * inputs)),
                       [.buffer(col), .int(s * perSample), .buffer(dx), .int(dxOffset + s * g.channels * g.inputVolume)]
                       + geometryArgs(g) + [.int(d0), .int(nd), .int(depths.lowerBound), .int(nid), .int(fresh)])
        }
    }
}
