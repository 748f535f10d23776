import Foundation
import Metrics
import Volumes

/// Reads a ground-truth / prediction pair (same grid, label masks, else a named error) and computes the
/// metrics of each label.
public func maskPairMetrics(gt: URL, pred: URL, labels: [Int]) throws -> [(Int, SegmentationMetrics)] {
    let (g, _) = try NIfTI.read(gt), (p, _) = try NIfTI.read(pred)
    try NIfTI.checkPair(image: g, imageFile: gt.path, label: p, labelFile: pred.path)
    try NIfTI.checkLabels(g, file: gt.path)
    try NIfTI.checkLabels(p, file: pred.path)
    return try labels.map { id in
        (id, try SegmentationMetrics.compute(gt: g.values.map { Int($0) == id }, pred: p.values.map { Int($0) == id },
                                             shape: g.shape, spacing: g.spacing))
    }
}
