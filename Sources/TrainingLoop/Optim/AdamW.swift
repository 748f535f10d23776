import Kernels
import Models

/// torch.optim.AdamW over a model's parameters: first and second moments live on the device beside each
/// parameter (same shape), created at the first step. With a `ParameterArena` (`use(_:)`) the moments are two
/// flat buffers laid out like the arena and a step is one launch over every parameter that has a gradient.
public final class AdamW {
    public var hyper: AdamWHyper
    public private(set) var step = 0
    private let backend: Backend
    /// Moments by parameter key: (m, v) — views of the flat moment buffers when an arena is in use.
    public private(set) var moments: [String: (m: Tensor, v: Tensor)] = [:]
    /// The arena and its flat moments (m, v), once `use(_:)` was called.
    public private(set) var arena: ParameterArena?
    private var flatMoments: (m: Tensor, v: Tensor)?
    /// When set (1 float on the device), an update changes nothing unless gate[0] != 0: see `Backend.finiteGate`.
    public var gate: Tensor?

    public init(hyper: AdamWHyper, backend: Backend) {
        self.hyper = hyper
        self.backend = backend
    }

    /// Continues from a checkpoint: the step count, hyper-parameters and moments it saved.
    public func restore(step: Int, hyper: AdamWHyper, moments restored: [String: (m: Tensor, v: Tensor)]) throws {
        self.step = step
        self.hyper = hyper
        guard arena != nil else { moments = restored; return }
        for (key, (m, v)) in restored {
            guard let slot = moments[key] else { throw ShapeError(op: "AdamW restore", "\(key) is not in the parameter arena") }
            try backend.copy(m, into: slot.m)
            try backend.copy(v, into: slot.v)
        }
    }

    /// Runs on `arena` from now on; moments already held (a restored checkpoint) move into its layout.
    public func use(_ arena: ParameterArena) throws {
        let m = try backend.zeros(arena.values.shape, name: "exp_avg arena")
        let v = try backend.zeros(arena.values.shape, name: "exp_avg_sq arena")
        for slot in arena.slots {
            let shape = slot.parameter.value.shape, offset = slot.range.lowerBound
            let views = (try backend.view(of: m, offset: offset, shape: shape, name: "\(slot.key) exp_avg"),
                         try backend.view(of: v, offset: offset, shape: shape, name: "\(slot.key) exp_avg_sq"))
            if let old = moments[slot.key] {
                try backend.copy(old.m, into: views.0)
                try backend.copy(old.v, into: views.1)
            }
            moments[slot.key] = views
        }
        self.arena = arena
        flatMoments = (m, v)
    }

    /// Zeroes the arena's gradients before a step (without an arena each tape starts without gradients).
    public func zeroGradients() throws { try arena?.zeroGradients() }

    /// One update of every parameter that has a gradient (PyTorch skips those without one).
    public func update(_ parameters: [(String, Parameter)]) throws {
        if let arena, let (m, v) = flatMoments, parameters.count == arena.slots.count,
           zip(parameters, arena.slots).allSatisfy({ $0.1 === $1.parameter }) {
            step += 1
            for range in arena.rangesWithGradients() {
                try backend.adamw(parameters: arena.values, gradients: arena.gradients, m: m, v: v, range: range,
                                  hyper: hyper, step: step, gate: gate)
            }
            return
        }
        try update(parameters.compactMap { key, p in p.grad.map { (key, p.value, $0) } })
    }

    /// One step over (key, value, gradient) triples; values change in place.
    public func update(_ items: [(key: String, value: Tensor, gradient: Tensor)]) throws {
        step += 1
        for (key, value, g) in items {
            let state = try moments[key] ?? (try backend.zeros(value.shape, name: "\(key) exp_avg"),
                                             try backend.zeros(value.shape, name: "\(key) exp_avg_sq"))
            moments[key] = state
            try backend.adamw(parameter: value, gradient: g, m: state.m, v: state.v, hyper: hyper, step: step, gate: gate)
        }
    }
}
