import Autograd
import Kernels

/// torch.nn.Conv3d. Keys: weight (O, C, kD, kH, kW), bias (O).
public final class Conv3d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let options: Conv3dOptions

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                backend: Backend, initializer: inout Initializer) throws {
        let fanIn = inChannels * kernel * kernel * kernel
        weight = try initializer.parameter(Shape(outChannels, inChannels, kernel, kernel, kernel), fanIn: fanIn,
                                           on: backend, name: "conv3d.weight")
        self.bias = bias ? try initializer.parameter(Shape(outChannels), fanIn: fanIn, on: backend, name: "conv3d.bias") : nil
        options = Conv3dOptions(stride: stride, padding: padding)
    }

    public var parameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// x: (N, C, D, H, W) → (N, O, Do, Ho, Wo)
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.conv3d(x, weight: weight.on(tape), bias: bias?.on(tape), options: options)
    }
}

/// torch.nn.ConvTranspose3d with kernel == stride (MONAI's decoder: 2, 2). Keys: weight (Cin, Cout, k, k, k), bias.
public final class ConvTranspose3d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let options: Conv3dOptions

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int, bias: Bool = true, backend: Backend,
                initializer: inout Initializer) throws {
        // PyTorch computes fan_in from weight.size(1) · k³ for transposed convolutions.
        let fanIn = outChannels * kernel * kernel * kernel
        weight = try initializer.parameter(Shape(inChannels, outChannels, kernel, kernel, kernel), fanIn: fanIn,
                                           on: backend, name: "convTranspose3d.weight")
        self.bias = bias ? try initializer.parameter(Shape(outChannels), fanIn: fanIn, on: backend, name: "convTranspose3d.bias") : nil
        options = Conv3dOptions(stride: stride, padding: 0)
    }

    public var parameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// x: (N, Cin, D, H, W) → (N, Cout, D·s, H·s, W·s) for kernel = stride = s
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.convTranspose3d(x, weight: weight.on(tape), bias: bias?.on(tape), options: options)
    }
}

/// torch.nn.Conv2d (k×k, 1×n, n×1). Keys: weight (O, C, kH, kW), bias (O).
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), bias: Bool = true, backend: Backend, initializer: inout Initializer) throws {
        let fanIn = inChannels * kernel.0 * kernel.1
        weight = try initializer.parameter(Shape(outChannels, inChannels, kernel.0, kernel.1), fanIn: fanIn, on: backend,
                                           name: "conv2d.weight")
        self.bias = bias ? try initializer.parameter(Shape(outChannels), fanIn: fanIn, on: backend, name: "conv2d.bias") : nil
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// x: (N, C, H, W) → (N, O, Ho, Wo)
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.conv2d(x, weight: weight.on(tape), bias: bias?.on(tape), stride: stride, padding: padding)
    }
}
