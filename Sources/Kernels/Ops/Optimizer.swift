extension Backend {
    /// AdamW on one tensor; p, m, v updated in place. All four tensors must have one shape.
    public func adamw(parameter p: Tensor, gradient g: Tensor, m: Tensor, v: Tensor, hyper: AdamWHyper, step: Int,
                      gate: Tensor? = nil) throws {
        try adamw(parameters: p, gradients: g, m: m, v: v, range: 0..<p.count, hyper: hyper, step: step, gate: gate)
    }

    /// AdamW on elements `range` of flat buffers of one size (the parameter arena and its moments).
    public func adamw(parameters p: Tensor, gradients g: Tensor, m: Tensor, v: Tensor, range: Range<Int>,
                      hyper: AdamWHyper, step: Int, gate: Tensor? = nil) throws {
        for t in [g, m, v] { try Check.same(p, t, "adamw") }
        try Check.that(range.lowerBound >= 0 && range.upperBound <= p.count, "adamw", "range \(range) outside \(p.count) elements")
        try Check.that(step >= 1, "adamw", "step must count from 1, got \(step)")
        guard !range.isEmpty else { return }
        try adamwStep(p: p, g: g, m: m, v: v, range: range, hyper: hyper, step: step, gate: gate)
    }
}
