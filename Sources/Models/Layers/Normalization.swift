import Autograd
import Kernels

/// torch.nn.LayerNorm over the last axis. Keys: weight, bias (features) when affine.
public final class LayerNorm: Module {
    public let weight: Parameter?
    public let bias: Parameter?
    public let eps: Float

    public init(_ features: Int, affine: Bool = true, eps: Float = 1e-5, backend: Backend) throws {
        weight = affine ? Parameter(try backend.full(Shape(features), value: 1, name: "layerNorm.weight")) : nil
        bias = affine ? Parameter(try backend.zeros(Shape(features), name: "layerNorm.bias")) : nil
        self.eps = eps
    }

    public var parameters: [(String, Parameter)] { [weight.map { ("weight", $0) }, bias.map { ("bias", $0) }].compactMap { $0 } }

    /// x: (..., features) → same shape
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.layerNorm(x, weight: weight?.on(tape), bias: bias?.on(tape), eps: eps)
    }
}

/// torch.nn.InstanceNorm3d (MONAI blocks: affine = False, no running statistics).
public final class InstanceNorm3d: Module {
    public let weight: Parameter?
    public let bias: Parameter?
    public let eps: Float

    public init(_ channels: Int, affine: Bool = false, eps: Float = 1e-5, backend: Backend) throws {
        weight = affine ? Parameter(try backend.full(Shape(channels), value: 1, name: "instanceNorm.weight")) : nil
        bias = affine ? Parameter(try backend.zeros(Shape(channels), name: "instanceNorm.bias")) : nil
        self.eps = eps
    }

    public var parameters: [(String, Parameter)] { [weight.map { ("weight", $0) }, bias.map { ("bias", $0) }].compactMap { $0 } }

    /// x: (N, C, D, H, W) → same shape
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.instanceNorm(x, weight: weight?.on(tape), bias: bias?.on(tape), eps: eps)
    }
}

/// torch.nn.BatchNorm2d. Keys: weight, bias; buffers running_mean, running_var, num_batches_tracked.
public final class BatchNorm2d: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVar: Buffer
    /// Host-side counter saved as I64 `num_batches_tracked`.
    public var batchesTracked = 0
    public let eps: Float
    /// Running-statistics update weight (`update_bn` sets 1/(k+1) for a cumulative average).
    public var momentum: Float
    public var training = false

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, backend: Backend) throws {
        weight = Parameter(try backend.full(Shape(channels), value: 1, name: "batchNorm.weight"))
        bias = Parameter(try backend.zeros(Shape(channels), name: "batchNorm.bias"))
        runningMean = Buffer(try backend.zeros(Shape(channels), name: "batchNorm.running_mean"))
        runningVar = Buffer(try backend.full(Shape(channels), value: 1, name: "batchNorm.running_var"))
        self.eps = eps
        self.momentum = momentum
    }

    public var parameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
    public var buffers: [(String, Buffer)] { [("running_mean", runningMean), ("running_var", runningVar)] }

    /// x: (N, C, H, W) → same shape; in training mode the running statistics move.
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        if training { batchesTracked += 1 }
        return try tape.batchNorm(x, weight: weight.on(tape), bias: bias.on(tape),
                                  running: RunningStats(mean: runningMean.value, variance: runningVar.value),
                                  training: training, momentum: momentum, eps: eps)
    }
}
