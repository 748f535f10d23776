// Conv3d, Conv2d (as Conv3d with depth 1) and ConvTranspose3d: im2col/col2im (kernels/conv.cl) + GEMM.
//
// All three share three cores on a group of samples (one strided-batched GEMM over them), with `g` the geometry of
// a *forward convolution* from an input with g.channels channels to an output with `outChannels`:
//   convForward:        out  (O, Do·Ho·Wo)  = W (O, C·K) · im2col(in)   (or implicit GEMM), per sample
//   backwardDataCore:   dIn  (C, D, H, W)   = col2im(Wᵀ · dOut), per sample
//   backwardWeightCore: dW   (O, C·K)      += Σ over samples of dOut · im2col(in)ᵀ
// A transposed convolution is the same pair read backwards (its forward is backwardDataCore). A 1×1×1 convolution
// with stride 1 and no padding skips the rearrangements: its input is its own column matrix.

/// Stride, padding and kernel of a 3D convolution, PyTorch order (d, h, w).
public struct Conv3dOptions: Sendable {
    public var stride: (Int, Int, Int)
    public var padding: (Int, Int, Int)
    public init(stride: (Int, Int, Int) = (1, 1, 1), padding: (Int, Int, Int) = (0, 0, 0)) {
        self.stride = stride
        self.padding = padding
    }
    public init(stride: Int, padding: Int) { self.init(stride: (stride, stride, stride), padding: (padding, padding, padding)) }
}

/// How the OpenCL backend runs a convolution's forward pass.
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    /// im2col into a column buffer, then one CLBlast SGEMM per slab.
    case im2col
    /// kernels/conv.cl `conv_forward_implicit`: tiles of the columns gathered into local memory.
    case implicitGEMM = "implicit-gemm"
}

/// Column-buffer budget per slab (floats) where the backend has no better idea: 32 Mi floats = 128 MiB.
public let defaultConvWorkspaceFloats = 1 << 25

extension Backend {
    // MARK: cores (a group of samples per call; depth processed in slabs)

    private func slabDepth(_ g: ConvGeometry) -> Int {
        let perDepth = g.channels * g.kernelVolume * g.output.h * g.output.w
        return max(1, min(g.output.d, convWorkspaceFloats / max(perDepth, 1)))
    }

    /// Samples a core call takes at once: all of them for a 1×1×1 convolution (no column buffer), as many whole
    /// samples as the column budget holds when one sample's columns fit, else one (cut into depth slabs). Each call
    /// then runs one strided-batched GEMM over its samples instead of one GEMM per sample.
    public func convSampleGroup(_ g: ConvGeometry, samples n: Int) -> Int {
        if g.isPointwise { return n }
        guard slabDepth(g) == g.output.d else { return 1 }
        return max(1, min(n, convWorkspaceFloats / max(g.channels * g.kernelVolume * g.outputVolume, 1)))
    }

    /// `body(first, count)` over the samples [0, n) in groups of `convSampleGroup`.
    private func sampleGroups(_ g: ConvGeometry, _ n: Int, _ body: (Int, Int) throws -> Void) throws {
        let group = convSampleGroup(g, samples: n)
        for first in stride(from: 0, to: n, by: group) { try body(first, min(group, n - first)) }
    }

    private func slabs(_ g: ConvGeometry, samples: Int, _ body: (Int, Int, Tensor) throws -> Void) throws {
        let nd = slabDepth(g)
        let col = try columnWorkspace(Shape(samples * g.channels * g.kernelVolume, nd * g.output.h * g.output.w))
        var d0 = 0
        while d0 < g.output.d {
            let n = min(nd, g.output.d - d0)
            try body(d0, n, col)
            d0 += n
        }
    }

    /// out[outOffset...] = W · im2col(in[inOffset...]) for `samples` consecutive samples, a column slab at a time,
    /// one strided-batched GEMM over the samples (the weight shared: stride 0) (every backend's default).
    public func im2colConvForward(input: Tensor, inOffset: Int, samples: Int, geometry g: ConvGeometry, weight: Tensor,
                                  outChannels: Int, out: Tensor, outOffset: Int) throws {
        let hw = g.output.h * g.output.w, ck = g.channels * g.kernelVolume
        if g.isPointwise {   // the input is its own column matrix (C, S)
            var a = GemmArgs(m: outChannels, n: g.outputVolume, k: g.channels)
            (a.bOffset, a.cOffset) = (inOffset, outOffset)
            (a.batch, a.strideB, a.strideC) = (samples, g.channels * g.inputVolume, outChannels * g.outputVolume)
            return try gemm(a, a: weight, b: input, c: out)
        }
        try slabs(g, samples: samples) { d0, nd, col in
            try im2col(x: input, xOffset: inOffset, geometry: g, d0: d0, nd: nd, samples: samples, col: col)
            var a = GemmArgs(m: outChannels, n: nd * hw, k: ck)
            a.ldc = g.outputVolume
            a.cOffset = outOffset + d0 * hw
            (a.batch, a.strideB, a.strideC) = (samples, ck * nd * hw, outChannels * g.outputVolume)
            try gemm(a, a: weight, b: col, c: out)
        }
    }

    /// dIn[inOffset...] = col2im(Wᵀ · dOut[outOffset...]) for `samples` consecutive samples, overwriting them (no zero
    /// fill first): each slab overwrites the input depths it is the first to reach and adds into the ones an earlier
    /// slab reached. With `accumulate`, dIn += that (every depth adds).
    private func backwardDataCore(_ dOut: Tensor, _ outOffset: Int, samples: Int, _ g: ConvGeometry, _ weight: Tensor,
                                  outChannels: Int, _ dIn: Tensor, _ inOffset: Int, accumulate: Bool = false) throws {
        let hw = g.output.h * g.output.w, ck = g.channels * g.kernelVolume
        if g.isPointwise {
            var a = GemmArgs(m: g.channels, n: g.outputVolume, k: outChannels, transA: true, beta: accumulate ? 1 : 0)
            (a.bOffset, a.cOffset) = (outOffset, inOffset)
            (a.batch, a.strideB, a.strideC) = (samples, outChannels * g.outputVolume, g.channels * g.inputVolume)
            return try gemm(a, a: weight, b: dOut, c: dIn)
        }
        var fresh = accumulate ? g.input.d : 0   // input depths from here on hold nothing of these samples yet
        try slabs(g, samples: samples) { d0, nd, col in
            var a = GemmArgs(m: ck, n: nd * hw, k: outChannels, transA: true)
            a.ldb = g.outputVolume
            a.bOffset = outOffset + d0 * hw
            (a.batch, a.strideB, a.strideC) = (samples, outChannels * g.outputVolume, ck * nd * hw)
            try gemm(a, a: weight, b: dOut, c: col)
            let last = d0 + nd == g.output.d
            try col2im(col: col, geometry: g, d0: d0, nd: nd, samples: samples, dx: dIn, dxOffset: inOffset, fresh: fresh,
                       last: last)
            fresh = max(fresh, g.col2imDepths(d0: d0, nd: nd).upperBound)
        }
    }

    /// The sum dW (O, C·K) += Σ over samples and slabs of dOut · im2col(in)ᵀ (`backwardWeightCore` adds to it).
    private func weightGradientSum(_ dW: Tensor, _ g: ConvGeometry, outChannels: Int, samples: Int) throws -> GemmSum {
        let ck = g.channels * g.kernelVolume
        return try beginGemmSum(into: dW, m: outChannels, n: ck, ldc: ck, cOffset: 0, totalK: samples * g.outputVolume)
    }

    /// dW (O, C·K) += dOut[outOffset...] · im2col(in[inOffset...])ᵀ for `samples` consecutive samples, into `sum`
    /// (finished by the caller): one im2col for the samples of a slab, their products through `addSamples` (the CPU backend
/// packs small ones into one).
    private func backwardWeightCore(_ input: Tensor, _ inOffset: Int, _ dOut: Tensor, _ outOffset: Int, samples: Int,
                                    _ g: ConvGeometry, outChannels: Int, _ sum: GemmSum) throws {
        let hw = g.output.h * g.output.w, ck = g.channels * g.kernelVolume
        if g.isPointwise {
            var a = GemmArgs(m: outChannels, n: g.channels, k: g.outputVolume, transB: true, beta: 1)
            (a.aOffset, a.bOffset) = (outOffset, inOffset)
            return try sum.addSamples(a, count: samples, strideA: outChannels * g.outputVolume, strideB: g.channels * g.inputVolume,
                                      a: dOut, b: input)
        }
        try slabs(g, samples: samples) { d0, nd, col in
            try im2col(x: input, xOffset: inOffset, geometry: g, d0: d0, nd: nd, samples: samples, col: col)
            var a = GemmArgs(m: outChannels, n: ck, k: nd * hw, transB: true, beta: 1)
            a.lda = g.outputVolume
            a.aOffset = outOffset + d0 * hw
            try sum.addSamples(a, count: samples, strideA: outChannels * g.outputVolume, strideB: ck * nd * hw, a: dOut, b: col)
        }
    }

    // MARK: Conv3d

    private func conv3dGeometry(_ x: Tensor, _ w: Tensor, _ o: Conv3dOptions, _ op: String) throws -> ConvGeometry {
        try Check.rank(x, 5, op, "input (N, C, D, H, W)")
        try Check.rank(w, 5, op, "weight (O, C, kD, kH, kW)")
        try Check.that(w.shape[1] == x.shape[1], op,
                       "\(w.name) \(w.shape) expects \(w.shape[1]) input channels, \(x.name) \(x.shape) has \(x.shape[1])")
        let s = o.stride, p = o.padding
        try Check.that(s.0 > 0 && s.1 > 0 && s.2 > 0 && p.0 >= 0 && p.1 >= 0 && p.2 >= 0, op, "bad stride/padding")
        let g = ConvGeometry(channels: x.shape[1], input: (x.shape[2], x.shape[3], x.shape[4]),
                             kernel: (w.shape[2], w.shape[3], w.shape[4]), stride: s, padding: p)
        let out = g.output
        try Check.that(out.d > 0 && out.h > 0 && out.w > 0, op, "kernel \(w.shape) larger than padded input \(x.shape)")
        return g
    }

    /// x: (N, C, D, H, W), weight: (O, C, kD, kH, kW), bias: (O) → (N, O, Do, Ho, Wo)
    public func conv3d(_ x: Tensor, weight: Tensor, bias: Tensor?, options: Conv3dOptions = .init()) throws -> Tensor {
        let g = try conv3dGeometry(x, weight, options, "conv3d")
        let (n, o) = (x.shape[0], weight.shape[0])
        let od = g.output
        let y = try allocate(Shape(n, o, od.d, od.h, od.w), name: "conv3d output")
        try sampleGroups(g, n) { first, count in
            try convForward(input: x, inOffset: first * g.channels * g.inputVolume, samples: count, geometry: g, weight: weight,
                            outChannels: o, out: y, outOffset: first * o * g.outputVolume)
        }
        if let bias {
            try Check.shape(bias, Shape(o), "conv3d")
            try broadcastAdd(y: y, base: nil, src: bias, dims: Dims3(n, o, g.outputVolume), along: .middle)
        }
        return y
    }

    /// (dx, dW, db) for `conv3d`, each written where `dx`, `dw`, `db` say (nil where skipped).
    public func conv3dBackward(_ x: Tensor, weight: Tensor, dy: Tensor, options: Conv3dOptions = .init(),
                               dx dxOut: GradientOutput = .new, dw dwOut: GradientOutput = .new,
                               db dbOut: GradientOutput = .new) throws -> (dx: Tensor?, dw: Tensor?, db: Tensor?)
    {
        let g = try conv3dGeometry(x, weight, options, "conv3d backward")
        let (n, o) = (x.shape[0], weight.shape[0])
        try Check.shape(dy, Shape(n, o, g.output.d, g.output.h, g.output.w), "conv3d backward")
        let dx = try dxOut.target(x.shape, name: "conv3d dx", on: self)
        let dw = try dwOut.zeroedTarget(weight.shape, name: "conv3d dW", on: self)
        let sum = try dw.map { try weightGradientSum($0, g, outChannels: o, samples: n) }
        try sampleGroups(g, n) { first, count in
            let inOff = first * g.channels * g.inputVolume, outOff = first * o * g.outputVolume
            if let dx {
                try backwardDataCore(dy, outOff, samples: count, g, weight, outChannels: o, dx, inOff, accumulate: dxOut.accumulates)
            }
            if let sum { try backwardWeightCore(x, inOff, dy, outOff, samples: count, g, outChannels: o, sum) }
        }
        try sum?.finish()
        return (dx, dw, try addBiasBackward(dy: dy, axis: 1, into: dbOut))
    }

    // MARK: Conv2d = Conv3d with depth 1

    /// x: (N, C, H, W), weight: (O, C, kH, kW) → (N, O, Ho, Wo). k×k, 1×n and n×1 kernels alike.
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0)) throws -> Tensor {
        let (x5, w5) = try as3d(x, weight, "conv2d")
        let y = try conv3d(x5, weight: w5, bias: bias, options: .init(stride: (1, stride.0, stride.1), padding: (0, padding.0, padding.1)))
        return try y.reshaped(Shape(y.shape[0], y.shape[1], y.shape[3], y.shape[4]))
    }

    public func conv2dBackward(_ x: Tensor, weight: Tensor, dy: Tensor, stride: (Int, Int) = (1, 1),
                               padding: (Int, Int) = (0, 0), dx dxOut: GradientOutput = .new,
                               dw dwOut: GradientOutput = .new, db dbOut: GradientOutput = .new) throws
        -> (dx: Tensor?, dw: Tensor?, db: Tensor?)
    {
        let (x5, w5) = try as3d(x, weight, "conv2d backward")
        try Check.rank(dy, 4, "conv2d backward", "dy (N, O, Ho, Wo)")
        let dy5 = try dy.reshaped(Shape(dy.shape[0], dy.shape[1], 1, dy.shape[2], dy.shape[3]))
        let r = try conv3dBackward(x5, weight: w5, dy: dy5, options: .init(stride: (1, stride.0, stride.1), padding: (0, padding.0, padding.1)),
                                   dx: try dxOut.reshaped(x5.shape), dw: try dwOut.reshaped(w5.shape), db: dbOut)
        return (try r.dx?.reshaped(x.shape), try r.dw?.reshaped(weight.shape), r.db)
    }

    private func as3d(_ x: Tensor, _ w: Tensor, _ op: String) throws -> (Tensor, Tensor) {
        try Check.rank(x, 4, op, "input (N, C, H, W)")
        try Check.rank(w, 4, op, "weight (O, C, kH, kW)")
        return (try x.reshaped(Shape(x.shape[0], x.shape[1], 1, x.shape[2], x.shape[3])),
                try w.reshaped(Shape(w.shape[0], w.shape[1], 1, w.shape[2], w.shape[3])))
    }

    // MARK: ConvTranspose3d

    /// Geometry of the forward convolution whose data-gradient this transposed convolution is.
    private func transposedGeometry(_ x: Tensor, _ w: Tensor, _ o: Conv3dOptions, _ op: String) throws
        -> (ConvGeometry, Shape)
    {
        try Check.rank(x, 5, op, "input (N, Cin, D, H, W)")
        try Check.rank(w, 5, op, "weight (Cin, Cout, kD, kH, kW)")
        try Check.that(w.shape[0] == x.shape[1], op,
                       "\(w.name) \(w.shape) expects \(w.shape[0]) input channels, \(x.name) \(x.shape) has \(x.shape[1])")
        let s = o.stride, p = o.padding, k = (w.shape[2], w.shape[3], w.shape[4])
        func out(_ i: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (i - 1) * s - 2 * p + k }
        let od = (out(x.shape[2], k.0, s.0, p.0), out(x.shape[3], k.1, s.1, p.1), out(x.shape[4], k.2, s.2, p.2))
        try Check.that(od.0 > 0 && od.1 > 0 && od.2 > 0, op, "empty output for \(x.shape) and \(w.shape)")
        let g = ConvGeometry(channels: w.shape[1], input: od, kernel: k, stride: s, padding: p)
        return (g, Shape(x.shape[0], w.shape[1], od.0, od.1, od.2))
    }

    /// x: (N, Cin, D, H, W), weight: (Cin, Cout, kD, kH, kW) (PyTorch layout), bias: (Cout) →
    /// (N, Cout, (D−1)·s − 2p + k, ...). MONAI's decoder uses kernel 2, stride 2, no bias.
    public func convTranspose3d(_ x: Tensor, weight: Tensor, bias: Tensor?, options: Conv3dOptions) throws -> Tensor {
        let (g, shape) = try transposedGeometry(x, weight, options, "convTranspose3d")
        let (n, cin) = (x.shape[0], x.shape[1])
        let y = try allocate(shape, name: "convTranspose3d output")
        try sampleGroups(g, n) { first, count in
            try backwardDataCore(x, first * cin * g.outputVolume, samples: count, g, weight, outChannels: cin, y,
                                 first * g.channels * g.inputVolume)
        }
        if let bias {
            try Check.shape(bias, Shape(g.channels), "convTranspose3d")
            try broadcastAdd(y: y, base: nil, src: bias, dims: Dims3(n, g.channels, g.inputVolume), along: .middle)
        }
        return y
    }

    /// (dx, dW, db) for `convTranspose3d`, each written where `dx`, `dw`, `db` say (nil where skipped).
    public func convTranspose3dBackward(_ x: Tensor, weight: Tensor, dy: Tensor, options: Conv3dOptions,
                                        dx dxOut: GradientOutput = .new, dw dwOut: GradientOutput = .new,
                                        db dbOut: GradientOutput = .new) throws -> (dx: Tensor?, dw: Tensor?, db: Tensor?)
    {
        let (g, shape) = try transposedGeometry(x, weight, options, "convTranspose3d backward")
        try Check.shape(dy, shape, "convTranspose3d backward")
        let (n, cin) = (x.shape[0], x.shape[1])
        let dx = try dxOut.overwriting.target(x.shape, name: "convTranspose3d dx", on: self)
        let dw = try dwOut.zeroedTarget(weight.shape, name: "convTranspose3d dW", on: self)
        let sum = try dw.map { try weightGradientSum($0, g, outChannels: cin, samples: n) }
        try sampleGroups(g, n) { first, count in
            let xOff = first * cin * g.outputVolume, yOff = first * g.channels * g.inputVolume
            if let dx {
                try convForward(input: dy, inOffset: yOff, samples: count, geometry: g, weight: weight, outChannels: cin,
                                out: dx, outOffset: xOff)
            }
            if let sum { try backwardWeightCore(dy, yOff, x, xOff, samples: count, g, outChannels: cin, sum) }
        }
        try sum?.finish()
        return (dx, dw, try addBiasBackward(dy: dy, axis: 1, into: dbOut))
    }
}

extension ConvGeometry {
    /// A 1×1×1 kernel, stride 1, no padding: the input is its own im2col matrix (C, D·H·W).
    public var isPointwise: Bool {
        kernelVolume == 1 && stride == (1, 1, 1) && padding == (0, 0, 0)
    }

    /// The input depths that output depths [d0, d0 + nd) read: [d0·s − p, (d0+nd−1)·s − p + k − 1] clipped to
    /// the volume (empty when the slab reads only padding).
    public func col2imDepths(d0: Int, nd: Int) -> Range<Int> {
        let lo = max(0, d0 * stride.d - padding.d)
        let hi = min(input.d - 1, (d0 + nd - 1) * stride.d - padding.d + kernel.d - 1)
        return lo..<max(lo, hi + 1)
    }

    /// The input depths a col2im launch for output depths [d0, d0 + nd) writes: those the slab reads, from
    /// `fresh` on where the slab leaves a gap before them, through the last depth when `last`.
    public func col2imLaunchDepths(d0: Int, nd: Int, fresh: Int, last: Bool) -> Range<Int> {
        let reads = col2imDepths(d0: d0, nd: nd)
        let lo = min(reads.lowerBound, fresh)
        return lo..<max(lo, last ? input.d : reads.upperBound)
    }
}

extension GradientOutput {
    /// The same target seen with another shape (a Conv2d tensor as the Conv3d one it is).
    func reshaped(_ shape: Shape) throws -> GradientOutput {
        if case let .accumulate(slot) = self { return .accumulate(into: try slot.reshaped(shape)) }
        return self
    }
}

extension Backend {
    /// `columnWorkspace`'s rule, shared by the backends: `held` is reused when it is large enough, else replaced by a
    /// buffer of `shape.count` floats (the old one is released first).
    func columnWorkspace(_ shape: Shape, held: inout Tensor?) throws -> Tensor {
        if let t = held, t.count >= shape.count { return Tensor(shape: shape, storage: t.storage, name: t.name, owner: t.owner) }
        held = nil
        let t = try allocate(Shape(shape.count), name: "im2col workspace")
        held = t
        return Tensor(shape: shape, storage: t.storage, name: t.name, owner: t.owner)
    }
}
