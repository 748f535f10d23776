import Kernels

extension Tape {
    /// MONAI DiceCELoss(to_onehot_y=True, softmax=True) as a scalar (shape ()); `parts` holds
    /// [total, dice, CE] on the device for logging.
    public func diceCELoss(_ logits: Variable, labels: Tensor, options: DiceCEOptions = .init()) throws
        -> (loss: Variable, parts: Tensor)
    {
        let be = backend
        let (parts, cache) = try be.diceCELoss(logits: logits.value, labels: labels, options: options)
        let total = try be.view(of: parts, offset: 0, shape: Shape([]), name: "DiceCE loss")   // parts[0], no copy
        let v = record(total, [logits]) { dy in [try be.diceCELossBackward(cache, upstream: dy)] }
        return (v, parts)
    }

    /// torch CrossEntropyLoss (mean) of logits (N, C) against target rows (N, C) (see `softTargets`).
    public func crossEntropy(_ logits: Variable, targets: Tensor) throws -> Variable {
        let be = backend
        let (loss, cache) = try be.crossEntropy(logits: logits.value, targets: targets)
        return record(loss, [logits]) { dy in [try be.crossEntropyBackward(cache, upstream: dy)] }
    }

    /// torch CrossEntropyLoss(label_smoothing: smoothing) for class ids.
    public func crossEntropy(_ logits: Variable, classes: [Int], smoothing: Float = 0) throws -> Variable {
        try Check.that(logits.shape.rank == 2 && logits.shape[0] == classes.count, "crossEntropy",
                       "logits \(logits.shape) need one class id per row, got \(classes.count)")
        let t = try softTargets(classes, classCount: logits.shape[1], smoothing: smoothing)
        return try crossEntropy(logits, targets: backend.upload(t, shape: logits.shape, name: "cross-entropy targets"))
    }

    /// torch L1Loss (mean |a − b|).
    public func l1Loss(_ a: Variable, _ b: Variable) throws -> Variable {
        try mean(try unary(.abs, try sub(a, b)))
    }

    /// F.normalize(x, dim=1) for x (N, D).
    public func normalizeRows(_ x: Variable, eps: Float = 1e-12) throws -> Variable {
        let be = backend
        let (y, norms) = try be.normalizeRows(x.value, eps: eps)
        return record(y, [x]) { dy in [try be.normalizeRowsBackward(y: y, norms: norms, dy: dy, eps: eps)] }
    }

    /// MONAI ContrastiveLoss (NT-Xent) between views a and b, each (B, D): row i of a and row i of b are
    /// the positive pair; every other row of both views is a negative. Mean over the 2B rows.
    public func contrastiveLoss(_ a: Variable, _ b: Variable, temperature: Float = 0.5) throws -> Variable {
        try Check.that(a.shape.rank == 2 && a.shape == b.shape, "contrastiveLoss",
                       "views must both be (B, D), got \(a.shape) and \(b.shape)")
        let n = 2 * a.shape[0]
        let z = try normalizeRows(try concat([a, b], axis: 0))
        let similarity = try scale(try matmul(z, z, transB: true), 1 / temperature)
        var mask = [Float](repeating: 0, count: n * n)
        for i in 0..<n { mask[i * n + i] = -1e9 }  // a row is never its own negative (exp → 0)
        let masked = try add(similarity, input(backend.upload(mask, shape: Shape(n, n), name: "contrastive self mask")))
        return try crossEntropy(masked, classes: (0..<n).map { ($0 + n / 2) % n })
    }

    /// MONAI DiceLoss(sigmoid=True) (include_background, smooth_nr = smooth_dr = 1e-5, mean over batch and
    /// channel): logits and target (B, C, spatial...), target binary.
    public func sigmoidDiceLoss(_ logits: Variable, target: Tensor, smoothNr: Float = 1e-5, smoothDr: Float = 1e-5)
        throws -> Variable
    {
        try Check.shape(target, logits.shape, "sigmoidDiceLoss target")
        try Check.that(logits.shape.rank >= 3, "sigmoidDiceLoss", "logits must be (B, C, spatial...), got \(logits.shape)")
        let rows = logits.shape[0] * logits.shape[1], s = logits.shape.count / max(rows, 1)
        let be = backend
        let flat = Shape(rows, s)
        let p = try reshape(try sigmoid(logits), flat)
        let t = try target.reshaped(flat)
        let intersection = try sum(try mul(p, input(t)), axis: 1)
        let denominator = try add(try sum(p, axis: 1),
                                  input(be.elementwise(.add, be.sum(t, axis: 1), be.full(Shape(rows), value: smoothDr, name: "smooth_dr"))))
        let numerator = try add(try scale(intersection, 2), input(be.full(Shape(rows), value: smoothNr, name: "smooth_nr")))
        let ratio = try div(numerator, denominator)
        return try sub(input(be.full(Shape([]), value: 1, name: "one")), try mean(ratio))
    }
}
