import Autograd
import Kernels

/// MONAI MLPBlock as Swin uses it: linear1 → GELU (erf) → linear2.
public final class MLPBlock: Module {
    let linear1: Linear, linear2: Linear
    public init(dim: Int, hidden: Int, backend: Backend, initializer: inout Initializer) throws {
        linear1 = try Linear(dim, hidden, backend: backend, initializer: &initializer)
        linear2 = try Linear(hidden, dim, backend: backend, initializer: &initializer)
    }
    public var children: [(String, Module)] { [("linear1", linear1), ("linear2", linear2)] }
    /// x → linear2(GELU(linear1(x))) (+ residual, added by linear2's GEMM).
    public func callAsFunction(_ x: Variable, residual: Variable? = nil, tape: Tape) throws -> Variable {
        try linear2(try linear1(x, activation: .gelu, tape: tape), residual: residual, tape: tape)
    }
}

/// MONAI SwinTransformerBlock: x + W-MSA(norm1(x)) (shifted when `shift` > 0), then x + MLP(norm2(x)).
public final class SwinTransformerBlock: Module {
    let norm1: LayerNorm, norm2: LayerNorm
    public let attn: WindowAttention
    let mlp: MLPBlock
    let window: [Int], shift: [Int]

    public init(dim: Int, heads: Int, window: [Int], shift: [Int], mlpRatio: Double, qkvBias: Bool, backend: Backend,
                initializer: inout Initializer) throws {
        norm1 = try LayerNorm(dim, backend: backend)
        attn = try WindowAttention(dim: dim, heads: heads, window: window, qkvBias: qkvBias, backend: backend,
                                   initializer: &initializer)
        norm2 = try LayerNorm(dim, backend: backend)
        mlp = try MLPBlock(dim: dim, hidden: Int(Double(dim) * mlpRatio), backend: backend, initializer: &initializer)
        self.window = window
        self.shift = shift
    }

    public var children: [(String, Module)] { [("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)] }

    /// x: (B, D, H, W, C) channels-last → same shape.
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        let s = x.shape.dims
        let g = WindowGeometry(batch: s[0], size: [s[1], s[2], s[3]], channels: s[4], window: window, shift: shift)
        // The two residual sums are done by the GEMMs of attn.proj and mlp.linear2.
        let y = try attn(tokens: try norm1(x, tape: tape), geometry: g, residual: x, tape: tape)
        return try mlp(try norm2(y, tape: tape), residual: y, tape: tape)
    }
}

/// MONAI PatchMerging (v1): gather 2×2×2 neighbours in x0..x7 order → LayerNorm(8C) → Linear(8C → 2C, no bias).
public final class PatchMerging: Module {
    let norm: LayerNorm, reduction: Linear
    public init(dim: Int, backend: Backend, initializer: inout Initializer) throws {
        norm = try LayerNorm(8 * dim, backend: backend)
        reduction = try Linear(8 * dim, 2 * dim, bias: false, backend: backend, initializer: &initializer)
    }
    public var children: [(String, Module)] { [("reduction", reduction), ("norm", norm)] }
    /// x: (B, D, H, W, C) → (B, ⌈D/2⌉, ⌈H/2⌉, ⌈W/2⌉, 2C)
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try reduction(try norm(try tape.patchMerge(x), tape: tape), tape: tape)
    }
}

/// MONAI BasicLayer: `depth` blocks alternating unshifted / shifted windows, then PatchMerging.
public final class BasicLayer: Module {
    public let blocks: [SwinTransformerBlock]
    let downsample: PatchMerging

    public init(dim: Int, depth: Int, heads: Int, window: [Int], mlpRatio: Double, qkvBias: Bool, backend: Backend,
                initializer: inout Initializer) throws {
        blocks = try (0..<depth).map { i in
            try SwinTransformerBlock(dim: dim, heads: heads, window: window, shift: i % 2 == 0 ? [0, 0, 0] : window.map { $0 / 2 },
                                     mlpRatio: mlpRatio, qkvBias: qkvBias, backend: backend, initializer: &initializer)
        }
        downsample = try PatchMerging(dim: dim, backend: backend, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("blocks", Container(blocks.enumerated().map { (String($0.offset), $0.element) })), ("downsample", downsample)]
    }

    /// x: (B, D, H, W, C) → (B, ⌈D/2⌉, ⌈H/2⌉, ⌈W/2⌉, 2C), channels-last. (MONAI's BasicLayer takes and returns
    /// channels-first and permutes on the way in and out; SwinTransformer here keeps its trunk channels-last.)
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        var y = x
        for b in blocks { y = try b(y, tape: tape) }
        return try downsample(y, tape: tape)
    }
}

/// MONAI SwinTransformer (`swinViT`): patch embedding (Conv3d k = s = patch) and four BasicLayers;
/// returns the five `proj_out` hidden states (non-affine LayerNorm over channels when `normalize`).
public final class SwinTransformer: Module {
    let patchEmbed: Conv3d
    public let layers: [BasicLayer]

    public init(_ c: SwinUNETRConfig, backend: Backend, initializer: inout Initializer) throws {
        patchEmbed = try Conv3d(c.inChannels, c.featureSize, kernel: c.patchSize, stride: c.patchSize, backend: backend,
                                initializer: &initializer)
        let window = [c.windowSize, c.windowSize, c.windowSize]
        layers = try (0..<4).map { i in
            try BasicLayer(dim: c.featureSize << i, depth: c.depths[i], heads: c.numHeads[i], window: window,
                           mlpRatio: c.mlpRatio, qkvBias: c.qkvBias, backend: backend, initializer: &initializer)
        }
    }

    public var children: [(String, Module)] {
        [("patch_embed", Container([("proj", patchEmbed)]))]
            + layers.enumerated().map { ("layers\($0.offset + 1)", Container([("0", $0.element)])) }
    }

    /// x: (B, Cin, D, H, W) → 5 hidden states (B, F·2^i, D/2^(i+1), ...), i = 0...4, channels-first as MONAI's.
    /// The trunk runs channels-last (B, D, H, W, C), one permute in after the patch embedding and one out per
    /// hidden state, where MONAI permutes around every layer and every `proj_out`.
    public func callAsFunction(_ x: Variable, normalize: Bool, tape: Tape) throws -> [Variable] {
        // MONAI proj_out: LayerNorm over the channels (non-affine) when `normalize`; channels-last in, first out.
        func projOut(_ cl: Variable) throws -> Variable {
            try tape.permute(normalize ? try tape.layerNorm(cl, weight: nil, bias: nil) : cl, [0, 4, 1, 2, 3])
        }
        let embedded = try patchEmbed(x, tape: tape)                  // (B, F, D/2, H/2, W/2)
        var h = try tape.permute(embedded, [0, 2, 3, 4, 1])           // (B, D/2, H/2, W/2, F)
        var outs = [normalize ? try projOut(h) : embedded]
        for layer in layers {
            h = try layer(h, tape: tape)
            outs.append(try projOut(h))
        }
        return outs
    }
}
