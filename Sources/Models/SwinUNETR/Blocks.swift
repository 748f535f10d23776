import Autograd
import Kernels

/// A module holding one child under a fixed attribute name (MONAI's `Convolution` is a Sequential whose
/// conv is `conv`; `ModuleList` children are "0", "1", ...).
public final class Container: Module {
    public let children: [(String, Module)]
    public init(_ children: [(String, Module)]) { self.children = children }
}

/// MONAI UnetResBlock (norm "instance", LeakyReLU 0.01): conv3×3 → IN → LReLU → conv3×3 → IN,
/// plus a 1×1 conv + IN on the residual when channels change, then LReLU.
/// Keys: conv1.conv.weight, conv2.conv.weight, conv3.conv.weight (no biases; IN has no parameters).
public final class UnetResBlock: Module {
    let conv1: Conv3d, conv2: Conv3d, conv3: Conv3d?

    public init(_ inChannels: Int, _ outChannels: Int, backend: Backend, initializer: inout Initializer) throws {
        conv1 = try Conv3d(inChannels, outChannels, kernel: 3, padding: 1, bias: false, backend: backend, initializer: &initializer)
        conv2 = try Conv3d(outChannels, outChannels, kernel: 3, padding: 1, bias: false, backend: backend, initializer: &initializer)
        conv3 = inChannels != outChannels
            ? try Conv3d(inChannels, outChannels, kernel: 1, bias: false, backend: backend, initializer: &initializer) : nil
    }

    public var children: [(String, Module)] {
        [("conv1", Container([("conv", conv1)])), ("conv2", Container([("conv", conv2)]))]
            + (conv3.map { [("conv3", Container([("conv", $0)]))] } ?? [])
    }

    /// x: (N, Cin, D, H, W) → (N, Cout, D, H, W)
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        var out = try tape.instanceNorm(try conv1(x, tape: tape), weight: nil, bias: nil, activation: .leakyRelu(slope: 0.01))
        out = try tape.instanceNorm(try conv2(out, tape: tape), weight: nil, bias: nil)
        var residual = x
        if let conv3 { residual = try tape.instanceNorm(try conv3(x, tape: tape), weight: nil, bias: nil) }
        return try tape.addLeakyRelu(out, residual, slope: 0.01)
    }
}

/// MONAI UnetrBasicBlock with res_block=True: its UnetResBlock lives under `layer`.
public final class UnetrBasicBlock: Module {
    let layer: UnetResBlock
    public init(_ inChannels: Int, _ outChannels: Int, backend: Backend, initializer: inout Initializer) throws {
        layer = try UnetResBlock(inChannels, outChannels, backend: backend, initializer: &initializer)
    }
    public var children: [(String, Module)] { [("layer", layer)] }
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable { try layer(x, tape: tape) }
}

/// MONAI UnetrUpBlock: transposed conv (kernel 2, stride 2, no bias), concat with the skip, UnetResBlock.
/// Keys: transp_conv.conv.weight (Cin, Cout, 2, 2, 2), conv_block.*.
public final class UnetrUpBlock: Module {
    let transpConv: ConvTranspose3d
    let convBlock: UnetResBlock

    public init(_ inChannels: Int, _ outChannels: Int, backend: Backend, initializer: inout Initializer) throws {
        transpConv = try ConvTranspose3d(inChannels, outChannels, kernel: 2, stride: 2, bias: false, backend: backend,
                                         initializer: &initializer)
        convBlock = try UnetResBlock(2 * outChannels, outChannels, backend: backend, initializer: &initializer)
    }

    public var children: [(String, Module)] { [("transp_conv", Container([("conv", transpConv)])), ("conv_block", convBlock)] }

    /// x: (N, Cin, D, H, W), skip: (N, Cout, 2D, 2H, 2W) → (N, Cout, 2D, 2H, 2W)
    public func callAsFunction(_ x: Variable, skip: Variable, tape: Tape) throws -> Variable {
        try convBlock(try tape.concat([try transpConv(x, tape: tape), skip], axis: 1), tape: tape)
    }
}

/// MONAI UnetOutBlock: 1×1×1 conv with bias. Keys: conv.conv.weight, conv.conv.bias.
public final class UnetOutBlock: Module {
    let conv: Conv3d
    public init(_ inChannels: Int, _ outChannels: Int, backend: Backend, initializer: inout Initializer) throws {
        conv = try Conv3d(inChannels, outChannels, kernel: 1, backend: backend, initializer: &initializer)
    }
    public var children: [(String, Module)] { [("conv", Container([("conv", conv)]))] }
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable { try conv(x, tape: tape) }
}
