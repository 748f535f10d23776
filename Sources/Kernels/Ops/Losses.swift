/// What DiceCE's forward keeps for its backward.
public struct DiceCECache {
    public let probs: Tensor    // (B, C, S) softmax over channels
    public let sums: Tensor     // (B·C·3) Σp·y, Σp, Σy
    public let labels: Tensor   // (B, S)
    public let dims: Dims3      // (B, C, S)
    public let options: DiceCEOptions
}

extension Backend {
    /// MONAI `DiceCELoss(to_onehot_y=True, softmax=True)`: logits (B, C, spatial...), labels (B, 1, spatial...)
    /// with class ids 0..C−1. Returns loss (3): [total, dice part, CE part]; nothing leaves the device.
    public func diceCELoss(logits: Tensor, labels: Tensor, options: DiceCEOptions = .init()) throws
        -> (loss: Tensor, cache: DiceCECache)
    {
        try Check.that(logits.shape.rank >= 3, "diceCELoss", "logits must be (B, C, spatial...), got \(logits.shape)")
        let (b, c) = (logits.shape[0], logits.shape[1])
        try Check.that(labels.shape.rank == logits.shape.rank && labels.shape[0] == b && labels.shape[1] == 1
                       && Array(labels.shape.dims[2...]) == Array(logits.shape.dims[2...]), "diceCELoss",
                       "labels \(labels.name) \(labels.shape) must be (B, 1, spatial) for logits \(logits.shape)")
        let dims = Dims3(b, c, logits.count / max(b * c, 1))
        let probs = try allocate(logits.shape, name: "diceCE softmax")
        let sums = try allocate(Shape(b * c * 3), name: "diceCE sums")
        let loss = try allocate(Shape(3), name: "diceCE loss")
        try diceCEForward(logits: logits, labels: labels, dims: dims, options: options, probs: probs, sums: sums, loss: loss)
        return (loss, DiceCECache(probs: probs, sums: sums, labels: labels, dims: dims, options: options))
    }

    /// d (upstream[0] · loss) / d logits.
    public func diceCELossBackward(_ cache: DiceCECache, upstream: Tensor) throws -> Tensor {
        let d = try allocate(cache.probs.shape, name: "diceCE dlogits")
        try diceCEBackward(probs: cache.probs, labels: cache.labels, sums: cache.sums, upstream: upstream,
                           dims: cache.dims, options: cache.options, dlogits: d)
        return d
    }
}
