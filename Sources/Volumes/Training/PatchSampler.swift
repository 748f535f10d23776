/// MONAI RandCropByPosNegLabeld: `samples` crops of `roi` per volume, each centred on a foreground
/// voxel (label > 0) with probability pos / (pos + neg), else on a background voxel; centres are moved
/// so the crop stays inside, and volumes smaller than the ROI are zero-padded first (SpatialPadd).
/// With `classRatios` it is RandCropByLabelClassesd instead: the centre's class k is drawn with
/// probability ratio_k / Σ ratios over the classes present in the volume.
public struct PatchSampler: Sendable, Equatable {
    public var roi: [Int]
    public var positive = 1.0
    public var negative = 1.0
    public var samples = 4
    public var classRatios: [Double]?

    public init(roi: [Int], positive: Double = 1, negative: Double = 1, samples: Int = 4) {
        self.roi = roi; self.positive = positive; self.negative = negative; self.samples = samples
    }

    /// image, label: one preprocessed volume (same shape). Returns `samples` patches.
    public func callAsFunction(image: Volume, label: Volume, _ rng: inout SampleRandom) -> [Patch] {
        let full = pad(Patch(size: image.shape, image: image.values, label: label.values))
        let s = full.size
        var fg: [Int] = [], bg: [Int] = []
        for i in 0..<full.voxels { if full.label[i] > 0 { fg.append(i) } else { bg.append(i) } }
        var byClass: [[Int]] = []
        if let ratios = classRatios {
            byClass = Array(repeating: [], count: ratios.count)
            for i in 0..<full.voxels { let k = Int(full.label[i]); if k < ratios.count { byClass[k].append(i) } }
        }
        return (0..<samples).map { _ in
            let pool: [Int]
            if let ratios = classRatios {
                let weights = ratios.enumerated().map { byClass[$0.offset].isEmpty ? 0 : $0.element }
                var u = rng.uniform() * weights.reduce(0, +), k = 0
                while k < weights.count - 1 && (weights[k] == 0 || u >= weights[k]) { u -= weights[k]; k += 1 }
                pool = byClass[k].isEmpty ? bg + fg : byClass[k]
            } else {
                let usePositive = !fg.isEmpty && (bg.isEmpty || rng.uniform() < positive / (positive + negative))
                pool = usePositive ? fg : bg
            }
            let i = pool[rng.below(pool.count)]
            let centre = [i / (s[1] * s[2]), (i / s[2]) % s[1], i % s[2]]
            let start = (0..<3).map { a in min(max(centre[a] - roi[a] / 2, 0), s[a] - roi[a]) }
            return full.remapped(to: roi) { a, b, c in (a + start[0], b + start[1], c + start[2]) }
        }
    }

    /// Symmetric zero padding up to the ROI where the volume is smaller (MONAI SpatialPadd, mode constant).
    func pad(_ p: Patch) -> Patch {
        let size = (0..<3).map { max(p.size[$0], roi[$0]) }
        guard size != p.size else { return p }
        let before = (0..<3).map { (size[$0] - p.size[$0]) / 2 }
        return p.remapped(to: size) { a, b, c in
            let i = [a - before[0], b - before[1], c - before[2]]
            return (0..<3).allSatisfy({ i[$0] >= 0 && i[$0] < p.size[$0] }) ? (i[0], i[1], i[2]) : nil
        }
    }
}
