extension Backend {
    /// AdamW on one tensor; p, m, v updated in place. All four tensors must have one shape.
    public func adamw(parameter p: Tensor, gradient g: Tensor, m: Tensor, v: Tensor, hyper: AdamWHyper, step: Int) throws {
        for t in [g, m, v] { try Check.same(p, t, "adamw") }
        try Check.that(step >= 1, "adamw", "step must count from 1, got \(step)")
        try adamwStep(p: p, g: g, m: m, v: v, hyper: hyper, step: step)
    }
}
