import Autograd
import Kernels

/// torchvision.models.inception.BasicConv2d: Conv2d (no bias) → BatchNorm2d (eps 0.001) → ReLU.
/// Keys: conv.weight, bn.{weight, bias, running_mean, running_var, num_batches_tracked}.
public final class BasicConv2d: Module {
    public let conv: Conv2d
    public let bn: BatchNorm2d

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), backend: Backend, initializer: inout Initializer) throws {
        conv = try Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: false,
                          backend: backend, initializer: &initializer)
        bn = try BatchNorm2d(outChannels, eps: 0.001, backend: backend)
    }

    public var children: [(String, Module)] { [("conv", conv), ("bn", bn)] }

    public var training: Bool {
        get { bn.training }
        set { bn.training = newValue }
    }

    /// x: (N, C, H, W) → (N, O, Ho, Wo)
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.relu(try bn(try conv(x, tape: tape), tape: tape))
    }
}
