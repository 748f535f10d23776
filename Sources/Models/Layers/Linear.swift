import Autograd
import Kernels

/// torch.nn.Linear: y = x·Wᵀ + b. Keys: weight (out, in), bias (out).
public final class Linear: Module {
    public let weight: Parameter   // (out, in)
    public let bias: Parameter?    // (out)

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, backend: Backend, initializer: inout Initializer) throws {
        weight = try initializer.parameter(Shape(outFeatures, inFeatures), fanIn: inFeatures, on: backend, name: "linear.weight")
        self.bias = bias ? try initializer.parameter(Shape(outFeatures), fanIn: inFeatures, on: backend, name: "linear.bias") : nil
    }

    public var parameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// x: (..., in) → (..., out), plus `residual` (..., out) when given.
    public func callAsFunction(_ x: Variable, residual: Variable? = nil, tape: Tape) throws -> Variable {
        try tape.linear(x, weight: weight.on(tape), bias: bias?.on(tape), residual: residual)
    }

    /// f(x·Wᵀ + b), bias and activation in one pass (with a bias; without one, the Linear, then f).
    public func callAsFunction(_ x: Variable, activation: UnaryOp, tape: Tape) throws -> Variable {
        guard let bias else { return try tape.unary(activation, try callAsFunction(x, tape: tape)) }
        return try tape.linear(x, weight: weight.on(tape), bias: bias.on(tape), activation: activation)
    }
}
