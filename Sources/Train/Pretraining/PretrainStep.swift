import Autograd
import Kernels
import Models
import SeededRandom
import TrainingLoop

/// One self-supervised step: two views of each sub-volume (`PretrainViews`), one forward of the 2B views
/// through `SSLHead`, loss = Σ λ·loss over the enabled tasks (inpainting L1 against the unmasked view,
/// 4-class flip cross-entropy, NT-Xent between the two views), backward, AdamW.
public final class PretrainStep {
    public let model: SSLHead
    public let optimizer: AdamW
    public let backend: Backend
    public let tasks: Set<PretrainTask>
    public var weights: [PretrainTask: Float] = [.inpaint: 1, .flip: 1, .contrast: 1]
    public var temperature: Float = 0.5
    public var views = PretrainViews()

    public init(model: SSLHead, optimizer: AdamW, backend: Backend, tasks: Set<PretrainTask>) throws {
        guard !tasks.isEmpty else { throw TrainingError("pretraining", "pretraining needs at least one task (inpaint, flip, contrast)") }
        self.model = model; self.optimizer = optimizer; self.backend = backend; self.tasks = tasks
    }

    /// The loss names, in the order `callAsFunction` returns them.
    public static let lossNames = ["loss", "inpaint", "flip", "contrast"]

    /// images: (B, C, D, H, W) on the host (B ≥ 2 for the contrastive task). Returns [total, inpaint, flip,
    /// contrast] (0 for tasks that are off). A non-finite loss throws before any weight changes.
    public func callAsFunction(images: [Float], count b: Int, size: [Int], rng: inout SplitMix64) throws -> [Float] {
        let c = model.config.inChannels
        if tasks.contains(.contrast) && b < 2 {
            throw TrainingError("pretraining", "the contrastive task needs a batch of at least 2 sub-volumes, got \(b)")
        }
        let v = views.make(images: images, count: b, channels: c, size: size, rng: &rng)
        let shape = Shape([2 * b, c] + size)
        let tape = Tape(backend: backend)
        let x = tape.input(try backend.upload(v.inputs, shape: shape, name: "pretraining views"))
        let out = try model(x, heads: tasks, tape: tape)
        var terms: [(PretrainTask, Variable)] = []
        if let r = out.reconstruction {
            let target = tape.input(try backend.upload(v.targets, shape: shape, name: "inpainting targets"))
            terms.append((.inpaint, try tape.l1Loss(r, target)))
        }
        if let f = out.flipLogits { terms.append((.flip, try tape.crossEntropy(f, classes: v.flips))) }
        if let p = out.projection {
            let halves = try tape.split(p, sizes: [b, b], axis: 0)
            terms.append((.contrast, try tape.contrastiveLoss(halves[0], halves[1], temperature: temperature)))
        }
        var total = try tape.scale(terms[0].1, weights[terms[0].0] ?? 1)
        for (task, loss) in terms.dropFirst() { total = try tape.add(total, try tape.scale(loss, weights[task] ?? 1)) }
        var values = [try backend.download(total.value)[0], 0, 0, 0]
        for (task, loss) in terms {
            values[1 + PretrainTask.allCases.firstIndex(of: task)!] = try backend.download(loss.value)[0]
        }
        guard values.allSatisfy(\.isFinite) else {
            tape.reset()
            throw NonFiniteLoss(values: Dictionary(uniqueKeysWithValues: zip(Self.lossNames, values)),
                                inputFinite: images.allSatisfy(\.isFinite))
        }
        try optimizer.zeroGradients()
        try tape.backward(total)
        try optimizer.update(model.namedParameters())
        return values
    }
}
