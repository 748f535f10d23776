import SeededRandom

/// Two augmented views of each sub-volume for self-supervised pretraining, on the host, as Tang et al.'s
/// `rot_rand` + `aug_rand` (Pretrain/utils/ops.py) with the paper's flips in place of rotations:
/// each view is mirrored by one of 4 flip classes, then random blocks are replaced by noise scaled to
/// [0, 1] (up to `maxDrop` of the voxels, blocks up to `maxBlock` of each axis) and, for a random
/// other sample of the batch, by that sample's voxels.
public struct PretrainViews: Sendable {
    /// Flip classes: 0 none, 1 z (superior–inferior, array axis 2 after RAS), 2 y (axis 1), 3 y and z.
    public static let flipAxes: [[Int]] = [[], [2], [1], [1, 2]]
    public var maxDrop = 0.3
    public var maxBlock = 0.25
    /// Smallest block side, as a fraction of each axis (Tang's tolr).
    public var minBlock = 0.05

    public init() {}

    /// The batch for one step. images: (B, C, D, H, W) flat. Returns inputs (2B, C, D, H, W) (flipped and
    /// masked; view 1 of every sample, then view 2), targets (2B, ...) (flipped, unmasked: what the
    /// inpainting head reconstructs) and the 2B flip classes.
    public func make(images: [Float], count b: Int, channels c: Int, size: [Int], rng: inout SplitMix64)
        -> (inputs: [Float], targets: [Float], flips: [Int])
    {
        let n = c * size.reduce(1, *)
        precondition(images.count == b * n, "images must be (B, C, D, H, W)")
        var targets: [Float] = [], flips: [Int] = []
        targets.reserveCapacity(2 * b * n)
        for _ in 0..<2 {
            for i in 0..<b {
                let k = rng.below(4)
                flips.append(k)
                targets += Self.flip(Array(images[i * n..<(i + 1) * n]), channels: c, size: size, axes: Self.flipAxes[k])
            }
        }
        var inputs = targets
        for view in 0..<2 {
            for i in 0..<b {
                let at = (view * b + i) * n
                drop(&inputs, at: at, channels: c, size: size, replacement: nil, rng: &rng)
                let other = rng.below(b)
                if other != i {
                    let src = Array(inputs[(view * b + other) * n..<(view * b + other + 1) * n])
                    drop(&inputs, at: at, channels: c, size: size, replacement: src, rng: &rng)
                }
            }
        }
        return (inputs, targets, flips)
    }

    /// x (C, D, H, W) mirrored along `axes`.
    public static func flip(_ x: [Float], channels: Int, size s: [Int], axes: [Int]) -> [Float] {
        guard !axes.isEmpty else { return x }
        var out = x
        let voxels = s.reduce(1, *)
        for ch in 0..<channels {
            for a in 0..<s[0] { for b in 0..<s[1] { for d in 0..<s[2] {
                var src = [a, b, d]
                for axis in axes { src[axis] = s[axis] - 1 - src[axis] }
                out[ch * voxels + (a * s[1] + b) * s[2] + d] = x[ch * voxels + (src[0] * s[1] + src[1]) * s[2] + src[2]]
            } } }
        }
        return out
    }

    /// Tang's patch_rand_drop on the sample at `at`: blocks until a random fraction (≤ maxDrop) of voxels
    /// is covered, each filled with N(0, 1) noise min–max scaled to [0, 1], or with `replacement`'s voxels.
    func drop(_ x: inout [Float], at: Int, channels: Int, size s: [Int], replacement: [Float]?, rng: inout SplitMix64) {
        let voxels = s.reduce(1, *)
        let target = rng.uniform() * maxDrop * Double(voxels)
        let lo = s.map { max(1, Int(Double($0) * minBlock)) }, hi = s.map { max(1, Int(Double($0) * maxBlock)) }
        var covered = 0.0
        while covered < target {
            let start = (0..<3).map { rng.below(max(1, s[$0] - lo[$0] + 1)) }
            let end = (0..<3).map { min(start[$0] + lo[$0] + rng.below(max(1, hi[$0] - lo[$0] + 1)), s[$0]) }
            let extent = (0..<3).map { end[$0] - start[$0] }
            var noise: [Float] = []
            if replacement == nil {
                noise = (0..<(channels * extent.reduce(1, *))).map { _ in Float(rng.gaussian()) }
                let (mn, mx) = (noise.min() ?? 0, noise.max() ?? 1)
                noise = noise.map { ($0 - mn) / max(mx - mn, 1e-6) }
            }
            var k = 0
            for ch in 0..<channels {
                for a in start[0]..<end[0] { for b in start[1]..<end[1] { for d in start[2]..<end[2] {
                    let i = ch * voxels + (a * s[1] + b) * s[2] + d
                    x[at + i] = replacement.map { $0[i] } ?? noise[k]
                    k += 1
                } } }
            }
            covered += Double(extent.reduce(1, *))
        }
    }
}
