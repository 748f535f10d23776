import Autograd
import Kernels
import Models
import TrainingLoop

/// One supervised step of Swin UNETR: forward, DiceCE, backward, AdamW. Only the 3-float loss
/// tensor leaves the device, and only when the caller downloads it.
public final class SegmentationStep {
    public let model: SwinUNETR
    public let optimizer: AdamW
    public let backend: Backend
    public var lossOptions = DiceCEOptions()
    /// d loss / d loss = 1, made once: the backward seed of every step.
    private var seed: Tensor?

    public init(model: SwinUNETR, optimizer: AdamW, backend: Backend) {
        self.model = model
        self.optimizer = optimizer
        self.backend = backend
    }

    /// x: (B, Cin, D, H, W) images, y: (B, 1, D, H, W) class ids → loss parts [total, dice, CE] (device).
    /// With `update: false` the gradients are left in the parameters and no step is taken.
    @discardableResult
    public func callAsFunction(x: Tensor, y: Tensor, update: Bool = true) throws -> Tensor {
        let f = try forward(x: x, y: y)
        try backward(f.tape, f.loss, update: update)
        return f.parts
    }

    /// A training step that checks the loss first: [total, dice, CE] on the host. A NaN or inf loss
    /// throws `NonFiniteLoss` before backward, so the weights stay as they were.
    public func train(x: Tensor, y: Tensor, inputFinite: () -> Bool) throws -> [Float] {
        let f = try forward(x: x, y: y)
        let values = try backend.download(f.parts)
        guard values.allSatisfy(\.isFinite) else {
            f.tape.reset()
            throw NonFiniteLoss(parts: values, inputFinite: inputFinite())
        }
        try backward(f.tape, f.loss)
        return values
    }

    /// The first half of a step, on a fresh tape: logits of the model on x, DiceCE against y, its parts on the device.
    func forward(x: Tensor, y: Tensor) throws -> (tape: Tape, logits: Variable, loss: Variable, parts: Tensor) {
        let tape = Tape(backend: backend)
        let logits = try model(tape.input(x), tape: tape)
        let (loss, parts) = try tape.diceCELoss(logits, labels: y, options: lossOptions)
        return (tape, logits, loss, parts)
    }

    /// The second half: zero the arena's gradients, backpropagate `loss`, and with `update` take the AdamW step.
    func backward(_ tape: Tape, _ loss: Variable, update: Bool = true) throws {
        try optimizer.zeroGradients()
        let one = try seed ?? backend.full(Shape([]), value: 1, name: "backward seed")
        seed = one
        try tape.backward(loss, seed: one)
        if update { try optimizer.update(model.namedParameters()) }
    }
}

extension NonFiniteLoss {
    /// From a segmentation step's loss parts [total, dice, CE].
    init(parts v: [Float], inputFinite: Bool, step: Int? = nil) {
        self.init(values: ["loss": v[0], "dice": v[1], "ce": v[2]], inputFinite: inputFinite, step: step)
    }
}
