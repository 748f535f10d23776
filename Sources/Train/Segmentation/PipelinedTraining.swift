import Autograd
import Kernels
import Models

/// Segmentation training that blocks the host once per step. Each call writes the batch without waiting,
/// enqueues forward, DiceCE, backward and AdamW, starts reading the loss back, and only then waits for the
/// *previous* step's loss, which the device finished while this step was being queued. A device-side flag
/// (`Backend.finiteGate`, sticky) stops AdamW from the first non-finite loss on, so when the host sees that loss
/// one step late the weights are still those from before it (the step queued after it did not update either), and
/// `NonFiniteLoss` names the step; the gate then opens again for whatever the caller does next.
public final class PipelinedTraining {
    public let step: SegmentationStep
    /// The batch buffers (B, Cin, D, H, W) and (B, 1, D, H, W), rewritten every step.
    private let images: Tensor, labels: Tensor
    private let gate: Tensor
    private var pending: (index: Int, read: PendingDownload, inputFinite: () -> Bool)?
    /// Steps enqueued so far.
    public private(set) var enqueued = 0

    public init(step: SegmentationStep, imageShape: Shape, labelShape: Shape) throws {
        self.step = step
        let b = step.backend
        images = try b.allocate(imageShape, name: "image batch")
        labels = try b.allocate(labelShape, name: "label batch")
        gate = try b.full(Shape(1), value: 1, name: "finite-loss gate")
        step.optimizer.gate = gate
    }

    /// Enqueues one step on a batch and returns the previous step's (index, [total, dice, CE]), nil on the first.
    /// `inputFinite` is asked only if this step's loss turns out non-finite (for the error message).
    public func callAsFunction(images x: [Float], labels y: [Float], inputFinite: @escaping () -> Bool) throws
        -> (index: Int, values: [Float])?
    {
        let b = step.backend
        try b.write(x, into: images)
        try b.write(y, into: labels)
        let f = try step.forward(x: images, y: labels)
        try b.finiteGate(values: f.parts, gate: gate)
        try step.backward(f.tape, f.loss)
        let previous = pending
        pending = (enqueued, try b.beginDownload(f.parts), inputFinite)
        enqueued += 1
        return try previous.map(checked)
    }

    /// Waits for the last step's loss (call once after the last step).
    public func finish() throws -> (index: Int, values: [Float])? {
        defer { pending = nil }
        return try pending.map(checked)
    }

    private func checked(_ p: (index: Int, read: PendingDownload, inputFinite: () -> Bool)) throws -> (index: Int, values: [Float]) {
        let values = try p.read.wait()
        guard values.allSatisfy(\.isFinite) else {
            pending = nil
            // Reopen the gate (after the step already queued behind this one, which it kept from updating), so a
            // caller that lowers the learning rate and goes on trains again.
            try step.backend.fill(gate, value: 1)
            throw NonFiniteLoss(parts: values, inputFinite: p.inputFinite(), step: p.index)
        }
        return (p.index, values)
    }
}
