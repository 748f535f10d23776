import Autograd
import Kernels
import SafeTensors

/// MONAI `SwinUNETR` (v1), weight for weight: `namedParameters()` and buffers carry MONAI's
/// `state_dict()` keys. Port of monai/networks/nets/swin_unetr.py.
public final class SwinUNETR: Module {
    public let config: SwinUNETRConfig
    public let swinViT: SwinTransformer
    let encoder1: UnetrBasicBlock, encoder2: UnetrBasicBlock, encoder3: UnetrBasicBlock
    let encoder4: UnetrBasicBlock, encoder10: UnetrBasicBlock
    let decoder5: UnetrUpBlock, decoder4: UnetrUpBlock, decoder3: UnetrUpBlock, decoder2: UnetrUpBlock
    let decoder1: UnetrUpBlock
    let out: UnetOutBlock

    public init(_ c: SwinUNETRConfig, backend: Backend, seed: UInt64 = 0) throws {
        try c.validate()
        config = c
        var r = Initializer(seed: seed)
        let f = c.featureSize
        swinViT = try SwinTransformer(c, backend: backend, initializer: &r)
        encoder1 = try UnetrBasicBlock(c.inChannels, f, backend: backend, initializer: &r)
        encoder2 = try UnetrBasicBlock(f, f, backend: backend, initializer: &r)
        encoder3 = try UnetrBasicBlock(2 * f, 2 * f, backend: backend, initializer: &r)
        encoder4 = try UnetrBasicBlock(4 * f, 4 * f, backend: backend, initializer: &r)
        encoder10 = try UnetrBasicBlock(16 * f, 16 * f, backend: backend, initializer: &r)
        decoder5 = try UnetrUpBlock(16 * f, 8 * f, backend: backend, initializer: &r)
        decoder4 = try UnetrUpBlock(8 * f, 4 * f, backend: backend, initializer: &r)
        decoder3 = try UnetrUpBlock(4 * f, 2 * f, backend: backend, initializer: &r)
        decoder2 = try UnetrUpBlock(2 * f, f, backend: backend, initializer: &r)
        decoder1 = try UnetrUpBlock(f, f, backend: backend, initializer: &r)
        out = try UnetOutBlock(f, c.outChannels, backend: backend, initializer: &r)
    }

    public var children: [(String, Module)] {
        [("swinViT", swinViT), ("encoder1", encoder1), ("encoder2", encoder2), ("encoder3", encoder3),
         ("encoder4", encoder4), ("encoder10", encoder10), ("decoder5", decoder5), ("decoder4", decoder4),
         ("decoder3", decoder3), ("decoder2", decoder2), ("decoder1", decoder1), ("out", out)]
    }

    /// Every intermediate of a forward pass, under MONAI's attribute names.
    public struct Outputs {
        public let logits: Variable                // (B, out, D, H, W)
        public let hiddenStates: [Variable]        // swinViT(x, normalize): 5 tensors
        public let named: [(String, Variable)]     // encoder1 ... decoder1
    }

    /// x: (B, Cin, D, H, W), D/H/W multiples of 32 → logits (B, out_channels, D, H, W).
    public func forward(_ x: Variable, tape: Tape) throws -> Outputs {
        try Check.that(x.shape.rank == 5 && x.shape[1] == config.inChannels, "SwinUNETR",
                       "input must be (B, \(config.inChannels), D, H, W), got \(x.shape)")
        try config.checkInput(Array(x.shape.dims[2...]))
        let h = try swinViT(x, normalize: config.normalize, tape: tape)
        let enc0 = try encoder1(x, tape: tape)
        let enc1 = try encoder2(h[0], tape: tape)
        let enc2 = try encoder3(h[1], tape: tape)
        let enc3 = try encoder4(h[2], tape: tape)
        let dec4 = try encoder10(h[4], tape: tape)
        let dec3 = try decoder5(dec4, skip: h[3], tape: tape)
        let dec2 = try decoder4(dec3, skip: enc3, tape: tape)
        let dec1 = try decoder3(dec2, skip: enc2, tape: tape)
        let dec0 = try decoder2(dec1, skip: enc1, tape: tape)
        let o = try decoder1(dec0, skip: enc0, tape: tape)
        let logits = try out(o, tape: tape)
        return Outputs(logits: logits, hiddenStates: h, named: [
            ("encoder1", enc0), ("encoder2", enc1), ("encoder3", enc2), ("encoder4", enc3), ("encoder10", dec4),
            ("decoder5", dec3), ("decoder4", dec2), ("decoder3", dec1), ("decoder2", dec0), ("decoder1", o),
        ])
    }

    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable { try forward(x, tape: tape).logits }

    /// Strict load of a MONAI state dict; the relative position indices must equal the computed ones.
    public func load(weights file: SafeTensorsFile, backend: Backend) throws {
        try load(from: file, backend: backend)
        for (i, layer) in swinViT.layers.enumerated() {
            for (j, block) in layer.blocks.enumerated() {
                try block.attn.verifyIndex(backend: backend, key: "swinViT.layers\(i + 1).0.blocks.\(j).attn")
            }
        }
    }
}
