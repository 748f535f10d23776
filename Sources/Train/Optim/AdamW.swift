import Kernels
import Models

/// torch.optim.AdamW over a model's parameters: first and second moments live on the device
/// beside each parameter (same shape), created at the first step.
public final class AdamW {
    public var hyper: AdamWHyper
    public private(set) var step = 0
    private let backend: Backend
    /// Moments by parameter key: (m, v).
    public private(set) var moments: [String: (m: Tensor, v: Tensor)] = [:]

    public init(hyper: AdamWHyper, backend: Backend) {
        self.hyper = hyper
        self.backend = backend
    }

    /// Continues from a checkpoint: the step count, hyper-parameters and moments it saved.
    public func restore(step: Int, hyper: AdamWHyper, moments: [String: (m: Tensor, v: Tensor)]) {
        self.step = step
        self.hyper = hyper
        self.moments = moments
    }

    /// One update of every parameter that has a gradient (PyTorch skips those without one).
    public func update(_ parameters: [(String, Parameter)]) throws {
        try update(parameters.compactMap { key, p in p.grad.map { (key, p.value, $0) } })
    }

    /// One step over (key, value, gradient) triples; values change in place.
    public func update(_ items: [(key: String, value: Tensor, gradient: Tensor)]) throws {
        step += 1
        for (key, value, g) in items {
            let state = try moments[key] ?? (try backend.zeros(value.shape, name: "\(key) exp_avg"),
                                             try backend.zeros(value.shape, name: "\(key) exp_avg_sq"))
            moments[key] = state
            try backend.adamw(parameter: value, gradient: g, m: state.m, v: state.v, hyper: hyper, step: step)
        }
    }
}
