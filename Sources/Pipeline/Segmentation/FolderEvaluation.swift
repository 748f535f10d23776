import Foundation
import Metrics
import Volumes

/// `swinliver evaluate`: a folder of predicted masks against a folder of ground truth, matched by file name (the
/// name without .nii / .nii.gz), each label scored as MONAI does, the tumour type of each case from a manifest when
/// given. Cases on one side only are warnings, not errors; no case on both sides is an error.
public enum FolderEvaluation {
    public static func run(predictions: URL, groundTruth: URL, manifest: URL?, labels: [Int], replicates: Int, seed: UInt64,
                           warn: (String) -> Void) throws -> SegmentationReport {
        let gtCases = try niftiCases(in: groundTruth), predCases = try niftiCases(in: predictions)
        let types = try manifest.map(tumourTypes) ?? [:]
        var warnings: [String] = []
        for name in gtCases.keys.sorted() where predCases[name] == nil { warnings.append("no prediction for \(name) in \(predictions.path)") }
        for name in predCases.keys.sorted() where gtCases[name] == nil { warnings.append("prediction \(name) has no ground truth in \(groundTruth.path)") }
        warnings.forEach(warn)
        var rows: [SegmentationRow] = []
        for name in gtCases.keys.sorted() {
            guard let p = predCases[name], let g = gtCases[name] else { continue }
            for (id, m) in try maskPairMetrics(gt: g, pred: p, labels: labels) {
                rows.append(SegmentationRow(caseName: name, tumourType: types[name], label: id, metrics: m))
            }
        }
        guard !rows.isEmpty else {
            throw DatasetError(path: predictions.path, problem: "no case has both a prediction here and a ground truth in \(groundTruth.path)")
        }
        var report = SegmentationReport(rows: rows, labelNames: [0: "background", 1: "liver", 2: "tumor"], warnings: warnings)
        report.replicates = replicates
        report.seed = seed
        return report
    }

    /// Case name (file name without .nii / .nii.gz) → file.
    public static func niftiCases(in dir: URL) throws -> [String: URL] {
        var out: [String: URL] = [:]
        for n in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            if let stem = NIfTI.stem(n) { out[stem] = dir.appendingPathComponent(n) }
        }
        return out
    }

    /// Case name of each manifest row's label file → tumour type (rows without a label or type are left out).
    public static func tumourTypes(_ manifest: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for c in try Dataset.manifest(manifest) {
            guard let label = c.label, let type = c.tumourType else { continue }
            out[NIfTI.stem(label.lastPathComponent) ?? label.lastPathComponent] = type.rawValue
        }
        return out
    }
}
