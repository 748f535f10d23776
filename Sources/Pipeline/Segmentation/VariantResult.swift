import Foundation
import Kernels
import Metrics
import Models
import SafeTensors
import Train
import Volumes

/// Held-out results of one trained model: every case segmented on its own grid and compared with
/// its ground truth (labels 1 liver, 2 tumour), as `evaluate` does.
public struct VariantResult {
    public var name: String
    public var perCase: [(String, [Int: SegmentationMetrics])]

    public func mean(_ k: Int, _ metric: (SegmentationMetrics) -> Double) -> Double {
        let v = perCase.compactMap { $0.1[k].map(metric) }.filter(\.isFinite)
        return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
    }

    public var json: [String: Any] {
        var r: [String: Any] = ["cases": perCase.count]
        for (k, n) in [(1, "liver"), (2, "tumor")] {
            r["\(n)_dice"] = jsonNumber(mean(k, \.dice)); r["\(n)_iou"] = jsonNumber(mean(k, \.iou)); r["\(n)_hd95"] = jsonNumber(mean(k, \.hd95))
        }
        return r
    }

    public var row: String {
        String(format: "| %@ | %.4f | %.4f | %.2f | %.4f | %.4f | %.2f |", name, mean(1, \.dice), mean(1, \.iou), mean(1, \.hd95),
               mean(2, \.dice), mean(2, \.iou), mean(2, \.hd95))
    }

    public static let header = "| variant | liver DSC | liver IoU | liver HD95 (mm) | tumor DSC | tumor IoU | tumor HD95 (mm) |\n|---|---|---|---|---|---|---|"
}

/// A number for JSON: NaN and ±inf become null. (Not named `finite`: Glibc's `finite(double) -> Int32` would win in
/// some literal contexts and write 1.)
public func jsonNumber(_ v: Double) -> Any { v.isFinite ? v : NSNull() }

/// Segments `cases` with `weights` into `predictions/` and scores them against their labels.
public func segmentAndScore(name: String, weights: URL, cases: [CaseEntry], predictions: URL, backend: Backend) throws -> VariantResult {
    let segmenter = try Segmenter(weights: weights, backend: backend)
    var rows: [(String, [Int: SegmentationMetrics])] = []
    for c in cases {
        guard let labelURL = c.label else { continue }
        let s = try segmenter.segment(c.image)
        let dest = predictions.appendingPathComponent(c.image.lastPathComponent)
        try NIfTI.write(s.mask, to: dest, as: .uint8, like: s.header)
        rows.append((c.name, Dictionary(uniqueKeysWithValues: try maskPairMetrics(gt: labelURL, pred: dest, labels: [1, 2]))))
    }
    return VariantResult(name: name, perCase: rows)
}
