import Autograd
import Kernels
import Models
import SeededRandom
import TrainingLoop

/// One Swin UNETR training step (forward, DiceCE, backward) on two backends from the same seeded weights and
/// batch, compared tensor by tensor: the check a device gets before it trains on it (`swinliver debug parity`,
/// scripts/gpu-check). Each row's difference is max |a − b| over max |b| of the reference tensor (the reference
/// fixtures' "rel").
///
/// How far apart two correct float32 runs may be depends on the size: whole-volume weight gradients are long,
/// cancelling sums, and at feature 12, 64³ the CPU backend split over 2 cores and over 1 core already differ by
/// up to 2.8e-3 on one tensor (most agree to ~1e-6). So the check also runs the reference with another summation
/// order (`reordered`, e.g. the CPU backend on one core) and allows 3× that self-difference, never less than
/// `tolerance`: the logits and the loss by their own (well conditioned: held to the base tolerance), the gradients
/// and the updated parameters by the largest of their kind.
public struct BackendParity: Sendable {
    public struct Row: Sendable {
        public let name: String
        public let relative: Double
        /// max(the base tolerance, 3 × the reference's self-difference on this tensor).
        public let bound: Double
    }

    /// logits, loss (total, dice, CE), grad.<parameter> for every parameter, then after_step.<parameter> (one
    /// AdamW step, lr 1e-4: there the difference is in units of lr, over elements with a clear gradient), in model order.
    public let rows: [Row]
    /// The base tolerance (each row's bound is at least this).
    public let tolerance: Double
    /// The largest difference between the reference and the reference with another summation order (nil: not run).
    public let reorderNoise: Double?

    /// NaN compares as a failure.
    public var passed: Bool { rows.allSatisfy { $0.relative <= $0.bound } }
    /// The row closest to (or furthest past) its bound: the largest difference / bound (NaN counts as largest).
    public var worst: Row {
        rows.max { a, b in
            let x = a.relative / a.bound, y = b.relative / b.bound
            return x.isNaN ? false : (y.isNaN || x < y)
        }!
    }

    /// Runs the step on both backends. The weights come from `seed` (drawn on the host, so both start equal), the
    /// image from `seed + 1`, the labels are three classes in stripes.
    public static func trainStep(config: SwinUNETRConfig, size: [Int], batch: Int, seed: UInt64, reference: Backend,
                                 reordered: Backend?, device: Backend, tolerance: Double = 2e-3) throws -> BackendParity {
        let learningRate: Float = 1e-4
        var random = SplitMix64(seed: seed + 1)
        let n = batch * size.reduce(1, *)
        let image = (0..<n).map { _ in random.uniformFloat() }, labels = (0..<n).map { Float(($0 / 97) % 3) }
        let shape = Shape([batch, config.inChannels] + size), labelShape = Shape([batch, 1] + size)
        // The training path as it runs: parameters in an arena, the image written without waiting, gradients
        // accumulated in place, one gated AdamW launch, results read back without blocking until needed.
        func run(_ b: Backend) throws -> [(String, [Float])] {
            let model = try SwinUNETR(config, backend: b, seed: seed)
            let optimizer = AdamW(hyper: AdamWHyper(lr: learningRate), backend: b)
            try optimizer.use(try ParameterArena(model.namedParameters(), backend: b))
            let step = SegmentationStep(model: model, optimizer: optimizer, backend: b)
            let x = try b.allocate(shape, name: "parity image")
            try b.write(image, into: x)
            let f = try step.forward(x: x, y: try b.upload(labels, shape: labelShape, name: "parity labels"))
            let out = [("logits", try b.beginDownload(f.logits.value)), ("loss", try b.beginDownload(f.parts))]
            try step.backward(f.tape, f.loss, update: false)
            let params = model.namedParameters()
            var grads: [(String, PendingDownload)] = []
            for (key, p) in params {
                guard let g = p.grad else { throw ShapeError(op: "parity", "\(key) received no gradient") }
                grads.append(("grad." + key, try b.beginDownload(g)))
            }
            let gate = try b.full(Shape(1), value: 1, name: "parity gate")
            try b.finiteGate(values: f.parts, gate: gate)
            optimizer.gate = gate
            try optimizer.update(params)
            let after = try params.map { ("after_step." + $0.0, try b.beginDownload($0.1.value)) }
            return try (out + grads + after).map { ($0.0, try $0.1.wait()) }
        }
        let expected = try run(reference)
        let referenceGradients = Dictionary(uniqueKeysWithValues: expected.filter { $0.0.hasPrefix("grad.") }.map { ($0.0, $0.1) })
        // After the AdamW step, a parameter whose gradient is at noise level, or near Adam's eps, may move by up to
        // ±lr either way (the first step is lr·g/(|g| + eps)); so the parameters are compared, in units of lr, where
        // the reference gradient is at least 1 % of its tensor's largest and 1000 × eps.
        func difference(_ name: String, _ e: [Float], _ g: [Float]) -> Double {
            if name.hasPrefix("after_step."), let grad = referenceGradients["grad." + name.dropFirst("after_step.".count)] {
                let floor = max(0.01 * (grad.map(abs).max() ?? 0), 1000 * AdamWHyper(lr: learningRate).eps)
                return zip(zip(e, g), grad).reduce(0.0) { m, p in
                    let d = Double(abs(p.0.0 - p.0.1))
                    return d.isNaN || m.isNaN ? .nan : (abs(p.1) >= floor ? max(m, d) : m)
                } / Double(learningRate)
            }
            let scale = max(Double(e.map(abs).max() ?? 0), 1e-8)
            return zip(e, g).reduce(0.0) { m, p in
                let d = Double(abs(p.0 - p.1))
                return d.isNaN || m.isNaN ? .nan : max(m, d)
            } / scale
        }
        func differences(_ got: [(String, [Float])]) -> [Double] { zip(expected, got).map { difference($0.0, $0.1, $1.1) } }
        let noise = try reordered.map { try differences(run($0)) }
        // The self-difference is taken per kind: the forward outputs each by their own, the gradients (all long
        // float32 sums, where which tensor shows the reordering is chance) and the updated parameters by the largest
        // of their kind.
        func kind(_ name: String) -> String { name.hasPrefix("grad.") ? "grad" : name.hasPrefix("after_step.") ? "after" : name }
        var kindNoise: [String: Double] = [:]
        for (k, e) in expected.enumerated() { kindNoise[kind(e.0)] = max(kindNoise[kind(e.0)] ?? 0, noise?[k] ?? 0) }
        let rows = zip(expected, try differences(run(device))).map { e, d in
            Row(name: e.0, relative: d, bound: max(tolerance, 3 * (kindNoise[kind(e.0)] ?? 0)))
        }
        return BackendParity(rows: rows, tolerance: tolerance, reorderNoise: noise?.max())
    }
}
