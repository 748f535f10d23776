import Kernels

/// The gradient slot of a graph value. The tape holds these, not the values, so a forward
/// activation lives only while the caller or a backward closure that needs it holds it.
final class GradNode {
    var grad: Tensor?
    /// `grad` is this node's alone (no other node or caller holds its memory), so a later contribution may be added
    /// into it in place: llm.c's rule, activation gradients overwrite except at joins, where they add.
    var ownsGrad = false
    /// Where a leaf's gradient accumulates in place (its slot of the parameter arena), instead of a new tensor.
    var accumulator: Tensor?
    let requiresGrad: Bool
    let isLeaf: Bool
    let shape: Shape
    let name: String

    init(shape: Shape, name: String, requiresGrad: Bool, isLeaf: Bool) {
        self.shape = shape
        self.name = name
        self.requiresGrad = requiresGrad
        self.isLeaf = isLeaf
    }
}

/// A value in the autograd graph. Leaves (`tape.parameter`, `tape.input(requiresGrad:)`) keep
/// their gradient in `grad` after `tape.backward`; intermediate gradients are freed as they are used.
public final class Variable {
    public let value: Tensor
    let node: GradNode

    init(_ value: Tensor, requiresGrad: Bool, isLeaf: Bool) {
        self.value = value
        node = GradNode(shape: value.shape, name: value.name, requiresGrad: requiresGrad, isLeaf: isLeaf)
    }

    public var shape: Shape { value.shape }
    public var requiresGrad: Bool { node.requiresGrad }
    public var grad: Tensor? { node.grad }
}

/// Reverse-mode autograd: ops on a `Tape` run forward on its backend at once and record a
/// backward closure; `backward(_:)` replays them in reverse, accumulating gradients.
public final class Tape {
    public let backend: Backend
    /// A recorded op: its output, its inputs, and (dOutput, where each input's gradient goes) → dInputs (nil where
    /// not needed or skipped).
    private struct Record {
        let output: GradNode
        let inputs: [GradNode]
        let backward: (Tensor, [GradientOutput]) throws -> [Tensor?]
    }
    private var records: [Record] = []

    /// False for inference: ops run, nothing is recorded, every activation is freed as soon as it is unused.
    public let recording: Bool

    public init(backend: Backend, recording: Bool = true) {
        self.backend = backend
        self.recording = recording
    }

    /// A leaf that receives a gradient (a model parameter). With `gradientInto` (its slot of the parameter
    /// arena, zeroed by the trainer before the step) the gradient is added there in place, no tensor allocated.
    public func parameter(_ t: Tensor, gradientInto slot: Tensor? = nil) -> Variable {
        let v = Variable(t, requiresGrad: true, isLeaf: true)
        v.node.accumulator = slot
        return v
    }

    /// A leaf input; with `requiresGrad` its gradient is kept (gradient checks, saliency).
    public func input(_ t: Tensor, requiresGrad: Bool = false) -> Variable {
        Variable(t, requiresGrad: requiresGrad, isLeaf: true)
    }

    /// Wraps an op's forward result; records `backward` only when some input needs a gradient.
    func record(_ output: Tensor, _ inputs: [Variable], backward: @escaping (Tensor) throws -> [Tensor?]) -> Variable {
        record(output, inputs) { dy, _ in try backward(dy) }
    }

    /// As `record(_:_:backward:)`, for an op that writes its gradients where the tape says (`GradientOutput`):
    /// `.skip` for an input that takes none, `.accumulate(into: slot)` for a parameter with an arena slot (the op
    /// adds into the slot and returns it), `.new` otherwise.
    func record(_ output: Tensor, _ inputs: [Variable],
                gradients backward: @escaping (Tensor, [GradientOutput]) throws -> [Tensor?]) -> Variable {
        let needs = recording && inputs.contains { $0.requiresGrad }
        let v = Variable(output, requiresGrad: needs, isLeaf: false)
        if needs { records.append(Record(output: v.node, inputs: inputs.map(\.node), backward: backward)) }
        return v
    }

    /// Backpropagates from `root` with seed gradient `seed` (default: ones, i.e. d root / d root = 1),
    /// then clears the tape. Leaf gradients accumulate across calls until `zeroGrad`.
    public func backward(_ root: Variable, seed: Tensor? = nil) throws {
        guard root.requiresGrad else { throw ShapeError(op: "backward", "\(root.value.name) does not depend on any parameter") }
        let g = try seed ?? backend.full(root.shape, value: 1, name: "backward seed")
        try Check.same(g, root.value, "backward seed")
        try accumulate(root.node, g, owned: false)   // the caller's seed: never written into
        for r in records.reversed() {
            guard let dy = r.output.grad else { continue }
            let dyOwned = r.output.ownsGrad
            if !r.output.isLeaf { r.output.grad = nil }
            let targets = r.inputs.map(Self.target)
            let grads = try r.backward(dy, targets)
            precondition(grads.count == r.inputs.count, "backward returned \(grads.count) grads for \(r.inputs.count) inputs")
            for (input, (grad, target)) in zip(r.inputs, zip(grads, targets)) where input.requiresGrad {
                guard let grad else { continue }
                if let slot = target.slot, grad.storage === slot.storage {
                    input.grad = slot   // the op added it into the slot or the existing gradient itself
                } else {
                    // A gradient is the input's alone unless this op handed the same memory to another input too,
                    // or passed on an upstream gradient that was not the output's alone.
                    let shared = grads.filter { $0?.storage === grad.storage }.count > 1
                    try accumulate(input, grad, owned: !shared && (grad.storage !== dy.storage || dyOwned))
                }
            }
        }
        records.removeAll()
    }

    /// Drops every recorded op without running backward (inference, or after an error).
    public func reset() { records.removeAll() }

    public static func zeroGrad(_ variables: [Variable]) { for v in variables { v.node.grad = nil } }

    /// Where the gradient of `input` goes: nowhere, into its arena slot, into the gradient it already has when that is
    /// its own (a join: the op adds), or a new tensor.
    private static func target(_ input: GradNode) -> GradientOutput {
        guard input.requiresGrad else { return .skip }
        if input.isLeaf, let slot = input.accumulator { return .accumulate(into: slot) }
        if let existing = input.grad, input.ownsGrad { return .accumulate(into: existing) }
        return .new
    }

    /// Adds g to v's gradient: into its slot or its own gradient in place, else as a new sum; or g becomes it.
    private func accumulate(_ v: GradNode, _ g: Tensor, owned: Bool) throws {
        guard g.shape == v.shape else {
            throw ShapeError(op: "backward", "gradient of \(v.name) is \(g.shape), expected \(v.shape)")
        }
        if let slot = v.accumulator {
            try backend.axpy(alpha: 1, x: g, y: slot)
            v.grad = slot
        } else if let existing = v.grad {
            if v.ownsGrad {
                try backend.axpy(alpha: 1, x: g, y: existing)
            } else {
                v.grad = try backend.elementwise(.add, existing, g)
                v.ownsGrad = !v.isLeaf
            }
        } else {
            v.grad = g
            v.ownsGrad = owned && !v.isLeaf   // a leaf's gradient is the caller's to read: never added into later
        }
    }
}
