import Foundation

/// Overlap and surface-distance metrics of one binary mask pair, with MONAI's definitions and its
/// empty-mask conventions (NaN / +∞); medpy's differing values are kept beside them.
public struct SegmentationMetrics: Sendable, Equatable {
    /// MONAI compute_dice (ignore_empty=True): NaN when the ground truth is empty.
    public var dice: Double
    /// MONAI compute_iou (ignore_empty=True).
    public var iou: Double
    /// MONAI compute_hausdorff_distance(percentile=95): max of the two directed 95th percentiles.
    public var hd95: Double
    /// MONAI HD95 with directed=True: the 95th percentile of pred → gt distances.
    public var hd95Directed: Double
    /// MONAI compute_hausdorff_distance(percentile=None).
    public var hd: Double
    /// MONAI compute_average_surface_distance(symmetric=True): mean of both directions' distances.
    public var assd: Double
    /// Symmetric=False: mean of pred → gt distances.
    public var asd: Double
    /// medpy hd95: one 95th percentile over both directions pooled (nil where medpy raises on an empty mask).
    public var medpyHD95: Double?

    /// dice / iou with MONAI's ignore_empty=False (1 for two empty masks, 0 for a prediction without truth).
    public var diceIgnoreEmptyFalse: Double
    public var iouIgnoreEmptyFalse: Double
}

public enum SegmentationMetricError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(gt: [Int], pred: [Int])
    public var description: String {
        switch self { case let .shapeMismatch(g, p): "ground truth \(g) and prediction \(p) differ in shape" }
    }
}

/// Linear-interpolation quantile of sorted values (torch.quantile / np.percentile); NaN when empty,
/// NaN when the bracketing values are both +∞ (as torch: ∞ − ∞).
func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let pos = q * Double(sorted.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
    let t = pos - Double(lo)
    if sorted[lo] == sorted[hi] && sorted[lo].isInfinite { return .nan }
    return sorted[lo] + (sorted[hi] - sorted[lo]) * t
}

extension SegmentationMetrics {
    /// gt, pred: masks (true = the label), array order (axis0, axis1, axis2) with `spacing[i]` mm along axis i.
    public static func compute(gt: [Bool], pred: [Bool], shape: [Int], spacing: [Double]) throws -> SegmentationMetrics {
        guard gt.count == shape.reduce(1, *), pred.count == gt.count else {
            throw SegmentationMetricError.shapeMismatch(gt: shape, pred: [pred.count])
        }
        var nG = 0, nP = 0, nI = 0
        for i in 0..<gt.count {
            if gt[i] { nG += 1 }
            if pred[i] { nP += 1; if gt[i] { nI += 1 } }
        }
        let union = nG + nP - nI
        let dice0 = nG + nP == 0 ? 1.0 : 2 * Double(nI) / Double(nG + nP)
        let iou0 = union == 0 ? 1.0 : Double(nI) / Double(union)
        var m = SegmentationMetrics(dice: nG == 0 ? .nan : dice0, iou: nG == 0 ? .nan : iou0, hd95: .nan, hd95Directed: .nan,
                                    hd: .nan, assd: .nan, asd: .nan, medpyHD95: nil,
                                    diceIgnoreEmptyFalse: nG == 0 ? (nP == 0 ? 1 : 0) : dice0,
                                    iouIgnoreEmptyFalse: nG == 0 ? (nP == 0 ? 1 : 0) : iou0)
        let sG = surface(of: gt, shape: shape), sP = surface(of: pred, shape: shape)
        let predToGT = directedDistances(from: sP, to: sG, shape: shape, spacing: spacing)
        let gtToPred = directedDistances(from: sG, to: sP, shape: shape, spacing: spacing)
        let both = (predToGT + gtToPred).sorted()
        let q1 = quantile(predToGT, 0.95), q2 = quantile(gtToPred, 0.95)
        m.hd95 = q1.isNaN || q2.isNaN ? .nan : max(q1, q2)
        m.hd95Directed = q1
        m.hd = both.isEmpty ? .nan : both.last!
        m.assd = both.isEmpty ? .nan : both.reduce(0, +) / Double(both.count)
        m.asd = predToGT.isEmpty ? .nan : predToGT.reduce(0, +) / Double(predToGT.count)
        if nG > 0 && nP > 0 { m.medpyHD95 = quantile(both, 0.95) }
        return m
    }

    /// Sorted distances (mm) from every surface voxel of `from` to the nearest surface voxel of `to`.
    /// MONAI's get_surface_distance conventions: +∞ per `from` voxel when `to` is empty, and +∞ per `to`
    /// voxel when `from` is empty (so a missed structure gives an infinite mean, not an empty list).
    static func directedDistances(from: [Bool], to: [Bool], shape: [Int], spacing: [Double]) -> [Double] {
        let any = to.contains(true)
        if any && !from.contains(true) { return [Double](repeating: .infinity, count: to.reduce(0) { $0 + ($1 ? 1 : 0) }) }
        let edt = any ? squaredDistanceTransform(feature: to, shape: shape, spacing: spacing) : []
        var out: [Double] = []
        for i in 0..<from.count where from[i] { out.append(any ? edt[i].squareRoot() : .infinity) }
        return out.sorted()
    }
}
