// Launcher for kernels/optim.cl.
extension OpenCLBackend {
    public func adamwStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, range: Range<Int>, hyper h: AdamWHyper,
                          step: Int) throws {
        let (bc1, bc2Sqrt) = h.corrections(step: step)
        try launch(.adamw_step, global: range.count,
                   [.buffer(p), .buffer(g), .buffer(m), .buffer(v), .int(range.lowerBound), .int(range.count), .float(h.lr), .float(h.beta1),
                    .float(h.beta2), .float(h.eps), .float(h.weightDecay), .float(bc1), .float(bc2Sqrt)])
    }
}
