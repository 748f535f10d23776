import Autograd
import Kernels
import Models
import SeededRandom

/// One Swin UNETR training step (forward, DiceCE, backward) on two backends from the same seeded weights and
/// batch, compared tensor by tensor: the check a device gets before it trains on it (`swinliver debug parity`,
/// scripts/gpu-check). Each row's difference is max |a − b| over max |b| of the reference tensor (the reference
/// fixtures' "rel").
///
/// How far apart two correct float32 runs may be depends on the size: whole-volume weight gradients are long,
/// cancelling sums, and at feature 12, 64³ the CPU backend split over 2 cores and over 1 core already differ by
/// up to 2.8e-3 on one tensor. So the check also runs the reference with another summation order (`reordered`,
/// e.g. the CPU backend on one core) and allows the device 3× that self-difference, never less than `tolerance`.
public struct BackendParity: Sendable {
    public struct Row: Sendable {
        public let name: String
        public let relative: Double
    }

    /// logits, loss (total, dice, CE), then grad.<parameter> for every parameter, in model order.
    public let rows: [Row]
    /// The bound each row is held to: max(the base tolerance, 3 × `reorderNoise`).
    public let tolerance: Double
    /// The largest difference between the reference and the reference with another summation order (nil: not run).
    public let reorderNoise: Double?

    /// NaN compares as a failure.
    public var passed: Bool { rows.allSatisfy { $0.relative <= tolerance } }
    /// The largest difference (NaN counts as largest).
    public var worst: Row { rows.max { a, b in a.relative.isNaN ? false : (b.relative.isNaN || a.relative < b.relative) }! }

    /// Runs the step on both backends. The weights come from `seed` (drawn on the host, so both start equal), the
    /// image from `seed + 1`, the labels are three classes in stripes.
    public static func trainStep(config: SwinUNETRConfig, size: [Int], batch: Int, seed: UInt64, reference: Backend,
                                 reordered: Backend?, device: Backend, tolerance: Double = 2e-3) throws -> BackendParity {
        var random = SplitMix64(seed: seed + 1)
        let n = batch * size.reduce(1, *)
        let image = (0..<n).map { _ in random.uniformFloat() }, labels = (0..<n).map { Float(($0 / 97) % 3) }
        let shape = Shape([batch, config.inChannels] + size), labelShape = Shape([batch, 1] + size)
        func run(_ b: Backend) throws -> [(String, [Float])] {
            let model = try SwinUNETR(config, backend: b, seed: seed)
            let tape = Tape(backend: b)
            let logits = try model(tape.input(try b.upload(image, shape: shape, name: "parity image")), tape: tape)
            let (loss, parts) = try tape.diceCELoss(logits, labels: try b.upload(labels, shape: labelShape, name: "parity labels"))
            let out = [("logits", try b.download(logits.value)), ("loss", try b.download(parts))]
            try tape.backward(loss)
            return try out + model.namedParameters().map { key, p in
                guard let g = p.grad else { throw ShapeError(op: "parity", "\(key) received no gradient") }
                return ("grad." + key, try b.download(g))
            }
        }
        let expected = try run(reference)
        func compare(_ got: [(String, [Float])]) -> [Row] {
            zip(expected, got).map { e, g in
                let scale = max(Double(e.1.map(abs).max() ?? 0), 1e-8)
                let diff = zip(e.1, g.1).reduce(0.0) { m, p in
                    let d = Double(abs(p.0 - p.1))
                    return d.isNaN || m.isNaN ? .nan : max(m, d)
                }
                return Row(name: e.0, relative: diff / scale)
            }
        }
        let noise = try reordered.map { try compare(run($0)).map(\.relative).max() ?? 0 }
        return BackendParity(rows: compare(try run(device)), tolerance: max(tolerance, 3 * (noise ?? 0)),
                             reorderNoise: noise)
    }
}
