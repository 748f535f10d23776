import Autograd
import Kernels

/// The self-supervised pretraining network of Tang et al. (CVPR 2022; MONAI research-contributions
/// `SwinUNETR/Pretrain/models/ssl_head.py`, `upsample="deconv"`), with the paper's 4-way flip task in
/// place of rotation. Keys: `swinViT.*` (MONAI SwinUNETR's encoder keys, so a fine-tune loads them
/// directly), `rotation_head.*` (here: flip), `contrastive_head.*`, `conv.0…4.*`.
public final class SSLHead: Module {
    public static let flipClasses = 4
    public let config: SwinUNETRConfig
    public let swinViT: SwinTransformer
    let flipHead: Linear
    let contrastiveHead: Linear
    let decoder: [ConvTranspose3d]

    /// The encoder's last stage width: 16 · feature_size.
    public var dim: Int { 16 * config.featureSize }

    public init(_ c: SwinUNETRConfig, projection: Int = 512, backend: Backend, seed: UInt64 = 0) throws {
        try c.validate()
        config = c
        var r = Initializer(seed: seed)
        swinViT = try SwinTransformer(c, backend: backend, initializer: &r)
        let d = 16 * c.featureSize
        flipHead = try Linear(d, Self.flipClasses, backend: backend, initializer: &r)
        contrastiveHead = try Linear(d, projection, backend: backend, initializer: &r)
        let widths = [d, d / 2, d / 4, d / 8, d / 16, c.inChannels]
        decoder = try (0..<5).map { i in
            try ConvTranspose3d(widths[i], widths[i + 1], kernel: 2, stride: 2, backend: backend, initializer: &r)
        }
    }

    public var children: [(String, Module)] {
        [("swinViT", swinViT), ("rotation_head", flipHead), ("contrastive_head", contrastiveHead),
         ("conv", Container(decoder.enumerated().map { ("\($0.offset)", $0.element as Module) }))]
    }

    public struct Outputs {
        public let flipLogits: Variable      // (B, 4) from encoder token 0
        public let projection: Variable      // (B, projection) from encoder token 1
        public let reconstruction: Variable  // (B, Cin, D, H, W)
    }

    /// x: (B, Cin, D, H, W), sides multiples of 32 with at least 2 tokens in the last stage
    /// (e.g. 64³). Heads not in `heads` are not run (their parameters get no gradient).
    public func callAsFunction(_ x: Variable, heads: Set<PretrainTask> = Set(PretrainTask.allCases), tape: Tape)
        throws -> (flipLogits: Variable?, projection: Variable?, reconstruction: Variable?)
    {
        try Check.that(x.shape.rank == 5 && x.shape[1] == config.inChannels, "SSLHead",
                       "input must be (B, \(config.inChannels), D, H, W), got \(x.shape)")
        try config.checkInput(Array(x.shape.dims[2...]))
        let out = try swinViT(x, normalize: config.normalize, tape: tape)[4]     // (B, dim, d, h, w)
        let (b, tokens) = (out.shape[0], out.shape.count / (out.shape[0] * dim))
        try Check.that(tokens >= 2, "SSLHead", "input \(x.shape) leaves \(tokens) encoder token; the heads need 2 (use ≥ 64 on one axis)")
        var flip: Variable?, projection: Variable?, reconstruction: Variable?
        if heads.contains(.flip) || heads.contains(.contrast) {
            let seq = try tape.permute(try tape.reshape(out, Shape(b, dim, tokens)), [0, 2, 1])  // (B, N, dim)
            let parts = try tape.split(seq, sizes: [1, 1, tokens - 2].filter { $0 > 0 }, axis: 1)
            if heads.contains(.flip) { flip = try flipHead(try tape.reshape(parts[0], Shape(b, dim)), tape: tape) }
            if heads.contains(.contrast) {
                projection = try contrastiveHead(try tape.reshape(parts[1], Shape(b, dim)), tape: tape)
            }
        }
        if heads.contains(.inpaint) {
            var h = out
            for layer in decoder { h = try layer(h, tape: tape) }
            reconstruction = h
        }
        return (flip, projection, reconstruction)
    }
}

/// The three proxy tasks of self-supervised pretraining.
public enum PretrainTask: String, CaseIterable, Sendable, Codable, Hashable {
    case inpaint, flip, contrast

    /// "inpaint,flip,contrast" → set; "" or "none" → empty (the supervised baseline).
    public static func parse(_ list: String) throws -> Set<PretrainTask> {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "none" }
        return try Set(names.map { n in
            guard let t = PretrainTask(rawValue: n) else {
                throw ConfigError(message: "unknown pretraining task '\(n)' (use inpaint, flip, contrast)")
            }
            return t
        })
    }
}
