import Foundation
import Metrics
import Volumes
import TrainingLoop

/// Per-class DSC / IoU / HD95 of a model's sliding-window segmentation of the validation cases, on
/// the preprocessed grid (HD95 in mm of the preprocessing spacing). Classes: 1 liver, 2 tumour.
public struct ValidationResult {
    public let epoch: Int
    /// Per case: name → [class → metrics].
    public let cases: [(String, [Int: SegmentationMetrics])]
    public static let classes = [1: "liver", 2: "tumor"]

    /// Mean over cases of one metric (NaN values, e.g. HD95 with an empty mask, are left out).
    public func mean(_ label: Int, _ metric: (SegmentationMetrics) -> Double) -> Double {
        let v = cases.compactMap { $0.1[label].map(metric) }.filter(\.isFinite)
        return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
    }

    /// Mean foreground Dice (liver and tumour): the best-checkpoint criterion.
    public var score: Double { (mean(1, \.dice) + mean(2, \.dice)) / 2 }

    public var summary: String {
        String(format: "validation epoch %d: liver DSC %.4f  tumor DSC %.4f  liver HD95 %.1f mm  tumor HD95 %.1f mm",
               epoch, mean(1, \.dice), mean(2, \.dice), mean(1, \.hd95), mean(2, \.hd95))
    }

    public var record: [String: Any] {
        var r: [String: Any] = ["event": "validation", "epoch": epoch, "score": jsonNumber(score)]
        for (k, name) in Self.classes {
            r["\(name)_dice"] = jsonNumber(mean(k, \.dice))
            r["\(name)_iou"] = jsonNumber(mean(k, \.iou))
            r["\(name)_hd95"] = jsonNumber(mean(k, \.hd95))
        }
        return r
    }

    public var json: [String: Any] {
        var r = record
        r["cases"] = cases.map { name, m in
            ["case": name] as [String: Any] as [String: Any]
                + Dictionary(uniqueKeysWithValues: Self.classes.flatMap { k, n in
                    [("\(n)_dice", jsonNumber(m[k]?.dice ?? .nan)), ("\(n)_iou", jsonNumber(m[k]?.iou ?? .nan)),
                     ("\(n)_hd95", jsonNumber(m[k]?.hd95 ?? .nan))]
                })
        }
        return r
    }
}

/// NaN and inf are not JSON: they become null.
func jsonNumber(_ v: Double) -> Any { v.isFinite ? v : NSNull() }

func + (a: [String: Any], b: [String: Any]) -> [String: Any] { a.merging(b) { $1 } }

/// The validation cases, preprocessed once and kept in memory.
public struct Validation {
    let volumes: [(String, Volume, Volume)]

    public init(cases: [CaseEntry], preprocessing: Preprocessing) throws {
        volumes = try cases.map { c in
            guard let labelURL = c.label else { throw TrainingError(c.image.path, "validation case without a label") }
            let (img, _) = try NIfTI.read(c.image), (lab, _) = try NIfTI.read(labelURL)
            try NIfTI.checkPair(image: img, imageFile: c.image.path, label: lab, labelFile: labelURL.path)
            let r = try preprocessing(image: img, label: lab)
            return (c.name, r.image, r.label!)
        }
    }

    public func run(_ segmenter: VolumeSegmenter, epoch: Int) throws -> ValidationResult {
        let cases = try volumes.map { name, image, label in
            let pred = try segmenter.labels(image)
            var m: [Int: SegmentationMetrics] = [:]
            for k in ValidationResult.classes.keys {
                m[k] = try SegmentationMetrics.compute(gt: label.values.map { Int($0) == k }, pred: pred.values.map { Int($0) == k },
                                                       shape: image.shape, spacing: image.spacing)
            }
            return (name, m)
        }
        return ValidationResult(epoch: epoch, cases: cases)
    }
}
