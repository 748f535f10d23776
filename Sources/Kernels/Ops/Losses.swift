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

/// What cross-entropy's forward keeps for its backward.
public struct CrossEntropyCache {
    public let probs: Tensor    // (N, C) softmax
    public let targets: Tensor  // (N, C) target distribution
}

extension Backend {
    /// torch `CrossEntropyLoss` (mean over rows) against target distributions: logits (N, C), targets
    /// (N, C) whose rows sum to 1 (one-hot, or label-smoothed by `softTargets`). Returns loss, shape ().
    public func crossEntropy(logits: Tensor, targets: Tensor) throws -> (loss: Tensor, cache: CrossEntropyCache) {
        try Check.that(logits.shape.rank == 2, "crossEntropy", "logits \(logits.name) must be (N, C), got \(logits.shape)")
        try Check.shape(targets, logits.shape, "crossEntropy targets")
        let (n, c) = (logits.shape[0], logits.shape[1])
        let probs = try allocate(logits.shape, name: "cross-entropy softmax")
        let rowLoss = try allocate(Shape(n), name: "cross-entropy per row")
        try crossEntropyRows(logits: logits, targets: targets, probs: probs, rowLoss: rowLoss, rows: n, cols: c)
        return (try mean(rowLoss), CrossEntropyCache(probs: probs, targets: targets))
    }

    /// d (upstream · loss) / d logits.
    public func crossEntropyBackward(_ cache: CrossEntropyCache, upstream: Tensor) throws -> Tensor {
        let d = try allocate(cache.probs.shape, name: "cross-entropy dlogits")
        try crossEntropyRowsBackward(probs: cache.probs, targets: cache.targets, upstream: upstream,
                                     scale: 1 / Float(max(cache.probs.shape[0], 1)), dlogits: d)
        return d
    }

    /// F.normalize(x, dim=1): x (N, D) → (y, norms (N)).
    public func normalizeRows(_ x: Tensor, eps: Float = 1e-12) throws -> (y: Tensor, norms: Tensor) {
        try Check.that(x.shape.rank == 2, "normalizeRows", "\(x.name) must be (N, D), got \(x.shape)")
        let y = try allocate(x.shape, name: "normalized rows"), norms = try allocate(Shape(x.shape[0]), name: "row norms")
        try rowNormalize(x: x, y: y, norms: norms, rows: x.shape[0], cols: x.shape[1], eps: eps)
        return (y, norms)
    }

    public func normalizeRowsBackward(y: Tensor, norms: Tensor, dy: Tensor, eps: Float = 1e-12) throws -> Tensor {
        try Check.same(y, dy, "normalizeRows backward")
        let dx = try allocate(y.shape, name: "normalized rows dx")
        try rowNormalizeBackward(y: y, norms: norms, dy: dy, dx: dx, rows: y.shape[0], cols: y.shape[1], eps: eps)
        return dx
    }
}

/// Target rows (N·C, row-major) for class ids: (1 − ε)·one-hot + ε/C, torch's `label_smoothing = ε`.
public func softTargets(_ classes: [Int], classCount c: Int, smoothing: Float = 0) throws -> [Float] {
    var t = [Float](repeating: smoothing / Float(c), count: classes.count * c)
    for (n, k) in classes.enumerated() {
        guard (0..<c).contains(k) else { throw ShapeError(op: "softTargets", "class id \(k) outside 0..<\(c)") }
        t[n * c + k] += 1 - smoothing
    }
    return t
}
