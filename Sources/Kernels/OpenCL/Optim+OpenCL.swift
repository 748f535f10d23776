// Launcher for kernels/optim.cl.
extension OpenCLBackend {
    public func adamwStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, range: Range<Int>, hyper h: AdamWHyper,
                          step: Int, gate: Tensor?) throws {
        let (bc1, bc2Sqrt) = h.corrections(step: step)
        try launch(.adamw_step, global: range.count,
                   [.buffer(p), .buffer(g), .buffer(m), .buffer(v), .int(range.lowerBound), .int(range.count), .float(h.lr), .float(h.beta1),
                    .float(h.beta2), .float(h.eps), .float(h.weightDecay), .float(bc1), .float(bc2Sqrt), .buffer(gate ?? p), .int(gate == nil ? 0 : 1)])
    }

    public func finiteGate(values: Tensor, gate: Tensor) throws {
        // One work-item: the finishing pass of the loss's reduction (a handful of values).
        try launch(.finite_gate, global: 1, finishing: values.count, [.buffer(values), .buffer(gate), .int(values.count)])
    }
}
