import Autograd
import Kernels
import Models

/// One supervised step of Swin UNETR: forward, DiceCE, backward, AdamW. Only the 3-float loss
/// tensor leaves the device, and only when the caller downloads it.
public final class SegmentationStep {
    public let model: SwinUNETR
    public let optimizer: AdamW
    public let backend: Backend
    public var lossOptions = DiceCEOptions()

    public init(model: SwinUNETR, optimizer: AdamW, backend: Backend) {
        self.model = model
        self.optimizer = optimizer
        self.backend = backend
    }

    /// x: (B, Cin, D, H, W) images, y: (B, 1, D, H, W) class ids → loss parts [total, dice, CE] (device).
    /// With `update: false` the gradients are left in the parameters and no step is taken.
    @discardableResult
    public func callAsFunction(x: Tensor, y: Tensor, update: Bool = true) throws -> Tensor {
        let tape = Tape(backend: backend)
        let logits = try model(tape.input(x), tape: tape)
        let (loss, parts) = try tape.diceCELoss(logits, labels: y, options: lossOptions)
        try optimizer.zeroGradients()
        try tape.backward(loss)
        if update { try optimizer.update(model.namedParameters()) }
        return parts
    }

    /// A training step that checks the loss first: [total, dice, CE] on the host. A NaN or inf loss
    /// throws `NonFiniteLoss` before backward, so the weights stay as they were.
    public func train(x: Tensor, y: Tensor, inputFinite: () -> Bool) throws -> [Float] {
        let tape = Tape(backend: backend)
        let logits = try model(tape.input(x), tape: tape)
        let (loss, parts) = try tape.diceCELoss(logits, labels: y, options: lossOptions)
        let values = try backend.download(parts)
        guard values.allSatisfy(\.isFinite) else {
            tape.reset()
            throw NonFiniteLoss(values: ["loss": values[0], "dice": values[1], "ce": values[2]], inputFinite: inputFinite())
        }
        try optimizer.zeroGradients()
        try tape.backward(loss)
        try optimizer.update(model.namedParameters())
        return values
    }
}
