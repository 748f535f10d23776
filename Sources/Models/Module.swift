import Autograd
import Foundation
import Kernels
import SafeTensors
import SeededRandom

/// A trainable tensor with its checkpoint key (the last component, e.g. "weight"; the module tree
/// supplies the prefix, e.g. "swinViT.patch_embed.proj.").
public final class Parameter {
    public internal(set) var value: Tensor
    /// The tape this parameter is a leaf of, held weakly: a new tape that happens to reuse a freed
    /// tape's address must get a fresh leaf, not the old one with its accumulated gradient.
    private weak var boundTape: Tape?
    private var boundVariable: Variable?
    /// Set by the parameter arena: `value` is a view into the arena's values and the gradient goes to this view
    /// of its gradients. An arena-backed parameter is updated in place, never replaced (`assign` refuses).
    public private(set) var gradientSlot: Tensor?

    public init(_ value: Tensor) { self.value = value }

    /// The parameter as a leaf of `tape` (one Variable per tape, so gradients gather in one place).
    public func on(_ tape: Tape) -> Variable {
        if let t = boundTape, t === tape, let v = boundVariable { return v }
        let v = tape.parameter(value, gradientInto: gradientSlot)
        boundTape = tape
        boundVariable = v
        return v
    }

    /// The gradient from the last `tape.backward`, if this parameter took part. In a parameter arena the gradient
    /// slot outlives the tape, so there it counts only while the tape it was bound to is alive: a parameter left out
    /// of the current step has no gradient (and AdamW skips it, as PyTorch does), not the zeroed slot of an old one.
    public var grad: Tensor? { gradientSlot != nil && boundTape == nil ? nil : boundVariable?.grad }

    /// Replaces the value (a loaded checkpoint, an optimiser step); drops the tape binding.
    public func assign(_ t: Tensor) throws {
        try Check.shape(t, value.shape, "assign \(value.name)")
        try Check.that(gradientSlot == nil, "assign \(value.name)",
                       "the parameter lives in a parameter arena: load weights before the arena is built")
        value = t
        boundTape = nil
        boundVariable = nil
    }
}

extension Parameter {
    /// Moves the parameter into an arena: `value` (already holding the parameter's numbers) and `gradient` are
    /// views of the arena's flat buffers. Drops any tape binding.
    public func bind(arenaValue: Tensor, gradient: Tensor) throws {
        try Check.shape(arenaValue, value.shape, "arena \(value.name)")
        try Check.shape(gradient, value.shape, "arena gradient \(value.name)")
        value = arenaValue
        gradientSlot = gradient
        boundTape = nil
        boundVariable = nil
    }
}

/// A non-trainable tensor saved with the model (BatchNorm running statistics, MONAI's
/// relative_position_index). `fileType` is the dtype it is written as (I64 for integer buffers).
public final class Buffer {
    public internal(set) var value: Tensor
    public let fileType: DType
    public init(_ value: Tensor, fileType: DType = .F32) {
        self.value = value
        self.fileType = fileType
    }
    public func assign(_ t: Tensor) throws {
        try Check.shape(t, value.shape, "assign \(value.name)")
        value = t
    }
}

/// A node of the model tree. Keys follow PyTorch's `state_dict()`: a module's parameters are
/// named `<child path>.<name>` with the child names of the Python class.
public protocol Module: AnyObject {
    /// Direct parameters, by local name ("weight", "bias").
    var parameters: [(String, Parameter)] { get }
    /// Direct buffers, by local name ("running_mean").
    var buffers: [(String, Buffer)] { get }
    /// Sub-modules, by attribute name ("conv", "bn", "0").
    var children: [(String, Module)] { get }
}

extension Module {
    public var parameters: [(String, Parameter)] { [] }
    public var buffers: [(String, Buffer)] { [] }
    public var children: [(String, Module)] { [] }

    /// Every parameter of the tree with its full key, in definition order.
    public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
        parameters.map { (prefix + $0.0, $0.1) }
            + children.flatMap { $0.1.namedParameters(prefix: prefix + $0.0 + ".") }
    }

    public func namedBuffers(prefix: String = "") -> [(String, Buffer)] {
        buffers.map { (prefix + $0.0, $0.1) } + children.flatMap { $0.1.namedBuffers(prefix: prefix + $0.0 + ".") }
    }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.count } }
}

/// PyTorch's default initialisation for Linear and Conv weights and biases:
/// U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5 gives the same bound).
public struct Initializer {
    private var random: SplitMix64
    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    public mutating func uniform(_ count: Int, bound: Float) -> [Float] {
        (0..<count).map { _ in (random.uniformFloat() * 2 - 1) * bound }
    }

    /// A parameter of `shape` drawn from U(−1/√fanIn, 1/√fanIn).
    public mutating func parameter(_ shape: Shape, fanIn: Int, on backend: Backend, name: String) throws -> Parameter {
        Parameter(try backend.upload(uniform(shape.count, bound: 1 / Float(max(fanIn, 1)).squareRoot()), shape: shape, name: name))
    }
}

extension Initializer {
    /// N(0, std²) truncated to ±2 (timm's trunc_normal_, which MONAI's Swin blocks use).
    public mutating func truncatedNormal(_ count: Int, std: Float) -> [Float] {
        (0..<count).map { _ in
            while true {
                let u = max(random.uniformFloat(), 1e-7), v = random.uniformFloat()
                let z = (-2 * log(u)).squareRoot() * cos(2 * .pi * v) * std
                if abs(z) <= 2 { return z }
            }
        }
    }
}
