import Foundation

/// The paper's / MONAI Swin UNETR recipe augmentations, applied to a cropped patch:
/// RandFlipd on each axis, RandRotate90d in the axial plane, RandZoomd (keep size), RandScaleIntensityd,
/// RandShiftIntensityd. Probabilities and ranges as MONAI's BTCV recipe unless set.
public struct Augmentation: Sendable, Equatable {
    public var flipProbability = 0.1          // per axis
    public var rotate90Probability = 0.1      // k ∈ {1, 2, 3} about the axial plane (axes 0, 1)
    public var zoomProbability = 0.1
    public var zoomRange = (0.9, 1.1)
    public var scaleProbability = 0.1
    public var scaleFactor = 0.1              // x · (1 + U(−f, f))
    public var shiftProbability = 0.5
    public var shiftOffset = 0.1              // x + U(−o, o)

    public init() {}

    public static let none: Augmentation = {
        var a = Augmentation()
        a.flipProbability = 0; a.rotate90Probability = 0; a.zoomProbability = 0; a.scaleProbability = 0; a.shiftProbability = 0
        return a
    }()

    public static func == (a: Augmentation, b: Augmentation) -> Bool {
        a.flipProbability == b.flipProbability && a.rotate90Probability == b.rotate90Probability
            && a.zoomProbability == b.zoomProbability && a.zoomRange == b.zoomRange && a.scaleProbability == b.scaleProbability
            && a.scaleFactor == b.scaleFactor && a.shiftProbability == b.shiftProbability && a.shiftOffset == b.shiftOffset
    }

    public func callAsFunction(_ p: Patch, _ rng: inout SampleRandom) -> Patch {
        var x = p
        for axis in 0..<3 where rng.chance(flipProbability) { x = Self.flip(x, axis: axis) }
        if rng.chance(rotate90Probability) { x = Self.rotate90(x, k: 1 + rng.below(3)) }
        if rng.chance(zoomProbability) { x = Self.zoom(x, factor: rng.uniform(zoomRange.0, zoomRange.1)) }
        if rng.chance(scaleProbability) {
            let f = Float(1 + rng.uniform(-scaleFactor, scaleFactor))
            x.image = x.image.map { $0 * f }
        }
        if rng.chance(shiftProbability) {
            let o = Float(rng.uniform(-shiftOffset, shiftOffset))
            x.image = x.image.map { $0 + o }
        }
        return x
    }

    public static func flip(_ p: Patch, axis: Int) -> Patch {
        p.remapped(to: p.size) { a, b, c in
            var i = [a, b, c]
            i[axis] = p.size[axis] - 1 - i[axis]
            return (i[0], i[1], i[2])
        }
    }

    /// torch.rot90(x, k, dims=(0, 1)) on the spatial axes (MONAI RandRotate90d): per turn
    /// out[a, b] = x[b, n1 − 1 − a], i.e. x.flip(1).transpose(0, 1).
    public static func rotate90(_ p: Patch, k: Int) -> Patch {
        var x = p
        for _ in 0..<(k % 4) {
            let s = x.size
            let src = x
            x = src.remapped(to: [s[1], s[0], s[2]]) { a, b, c in (b, s[1] - 1 - a, c) }
        }
        return x
    }

    /// Zoom about the centre keeping the size: image trilinear, label nearest; outside → 0.
    public static func zoom(_ p: Patch, factor: Double) -> Patch {
        let s = p.size
        let centre = s.map { Double($0 - 1) / 2 }
        var img = [Float](repeating: 0, count: p.voxels), lab = [Float](repeating: 0, count: p.voxels)
        let source = Volume(shape: s, values: p.image, affine: .diagonal([1, 1, 1]))
        var k = 0
        for a in 0..<s[0] { for b in 0..<s[1] { for c in 0..<s[2] {
            let q = [a, b, c].enumerated().map { centre[$0.offset] + (Double($0.element) - centre[$0.offset]) / factor }
            if q.enumerated().allSatisfy({ $0.element >= 0 && $0.element <= Double(s[$0.offset] - 1) }) {
                let n = q.map { Int($0.rounded()) }
                lab[k] = p.label[(n[0] * s[1] + n[1]) * s[2] + n[2]]
                img[k] = Preprocessing.trilinear(source, q)
            }
            k += 1
        } } }
        return Patch(size: s, image: img, label: lab)
    }
}
