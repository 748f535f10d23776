import Kernels

extension Tape {
    /// MONAI DiceCELoss(to_onehot_y=True, softmax=True) as a scalar (shape ()); `parts` holds
    /// [total, dice, CE] on the device for logging.
    public func diceCELoss(_ logits: Variable, labels: Tensor, options: DiceCEOptions = .init()) throws
        -> (loss: Variable, parts: Tensor)
    {
        let be = backend
        let (parts, cache) = try be.diceCELoss(logits: logits.value, labels: labels, options: options)
        let total = try be.split(parts, sizes: [1, 2], axis: 0)[0].reshaped(Shape([]))
        let v = record(total, [logits]) { dy in [try be.diceCELossBackward(cache, upstream: dy)] }
        return (v, parts)
    }
}
