import Autograd
import Kernels
import Models
import TrainingLoop

/// Segmentation training that blocks the host once per step. Each call writes the batch without waiting,
/// enqueues forward, DiceCE, backward and AdamW, starts reading the loss back, and only then waits for the
/// *previous* step's loss, which the device finished while this step was being queued. A device-side flag
/// (`Backend.finiteGate`, sticky) stops AdamW from the first non-finite loss on, so when the host sees that loss
/// one step late the weights are still those from before it (the step queued after it did not update either), and
/// `NonFiniteLoss` names the step; the gate then opens again for whatever the caller does next.
///
/// The batch buffers are double-buffered: step n's batch goes into the pair step n − 2 read (after a fence behind
/// that step), so on OpenCL its copy from pinned memory overlaps step n − 1's kernels.
public final class PipelinedTraining {
    public let step: SegmentationStep
    /// Two (images (B, Cin, D, H, W), labels (B, 1, D, H, W)) pairs, alternating; reallocated when a batch's shape
    /// differs (an epoch's last, smaller batch).
    private var batches: [(images: Tensor, labels: Tensor)?] = [nil, nil]
    /// Behind the last work that touched each pair (the step that read it, or what used its memory before).
    private var lastUse: [DeviceFence?] = [nil, nil]
    private let gate: Tensor
    private var pending: (index: Int, read: PendingDownload, inputFinite: () -> Bool)?
    /// The index the next step gets: steps enqueued so far, counted from `firstIndex`.
    public private(set) var enqueued: Int

    /// `firstIndex`: the index of the first step (a resumed run's position), which results and errors name.
    public init(step: SegmentationStep, firstIndex: Int = 0) throws {
        self.step = step
        enqueued = firstIndex
        gate = try step.backend.full(Shape(1), value: 1, name: "finite-loss gate")
        step.optimizer.gate = gate
    }

    /// Enqueues one step on a batch (`imageShape` (B, Cin, D, H, W), `labelShape` (B, 1, D, H, W)) and returns the
    /// previous step's (index, [total, dice, CE]), nil on the first. `inputFinite` is asked only if this step's loss
    /// turns out non-finite (for the error message).
    public func callAsFunction(images x: [Float], labels y: [Float], imageShape: Shape, labelShape: Shape,
                               inputFinite: @escaping () -> Bool) throws -> (index: Int, values: [Float])?
    {
        let b = step.backend, slot = enqueued % 2
        if batches[slot]?.images.shape != imageShape || batches[slot]?.labels.shape != labelShape {
            batches[slot] = (try b.allocate(imageShape, name: "image batch"), try b.allocate(labelShape, name: "label batch"))
            lastUse[slot] = try b.fence()   // pooled memory: work enqueued before may still write it
        }
        let (images, labels) = batches[slot]!
        try b.write(x, into: images, after: lastUse[slot]!)
        try b.write(y, into: labels, after: lastUse[slot]!)
        let f = try step.forward(x: images, y: labels)
        try b.finiteGate(values: f.parts, gate: gate)
        try step.backward(f.tape, f.loss)
        lastUse[slot] = try b.fence()
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
