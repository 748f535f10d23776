import AtomicFile
import Foundation

/// One evaluated case and label.
public struct SegmentationRow: Sendable {
    public var caseName: String
    public var tumourType: String?
    public var label: Int
    public var metrics: SegmentationMetrics
    public init(caseName: String, tumourType: String?, label: Int, metrics: SegmentationMetrics) {
        self.caseName = caseName; self.tumourType = tumourType; self.label = label; self.metrics = metrics
    }
}

/// Writes metrics.csv, summary.json, report.md and box plots (SVG) for a set of evaluated cases.
public struct SegmentationReport {
    public var rows: [SegmentationRow]
    public var labelNames: [Int: String]
    public var warnings: [String]
    public var replicates = 2000
    public var seed: UInt64 = 0

    public init(rows: [SegmentationRow], labelNames: [Int: String], warnings: [String]) {
        self.rows = rows; self.labelNames = labelNames; self.warnings = warnings
    }

    static let metricNames = ["dice", "iou", "hd95", "assd"]

    static func values(_ m: SegmentationMetrics) -> [Double] { [m.dice, m.iou, m.hd95, m.assd] }

    func name(_ label: Int) -> String { labelNames[label] ?? "label \(label)" }

    /// Mean ± SD of the finite values, their count, and a bootstrap CI of the mean (cases resampled).
    func summary(_ v: [Double]) -> (mean: Double, sd: Double, median: Double, finite: Int, ci: Estimate) {
        let x = v.filter(\.isFinite)
        guard !x.isEmpty else { return (.nan, .nan, .nan, 0, Estimate(value: .nan, low: .nan, high: .nan)) }
        let mean = x.reduce(0, +) / Double(x.count)
        let sd = x.count > 1 ? (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count - 1)).squareRoot() : 0
        let ci = bootstrap(count: x.count, replicates: replicates, seed: seed) { idx in [idx.map { x[$0] }.reduce(0, +) / Double(idx.count)] }[0]
        return (mean, sd, quantile(x.sorted(), 0.5), x.count, ci)
    }

    var labels: [Int] { Array(Set(rows.map(\.label))).sorted() }
    var types: [String] { Array(Set(rows.compactMap(\.tumourType))).sorted() }

    public func csv() -> String {
        // medpy_hd95 (one pooled percentile) differs from MONAI's hd95 when the two directions differ; empty if medpy would raise.
        var s = "case,tumor_type,label,label_name,dice,iou,hd95,assd,medpy_hd95\n"
        func text(_ v: Double) -> String { v.isNaN ? "NaN" : v.isInfinite ? (v > 0 ? "Infinity" : "-Infinity") : String(v) }
        for r in rows {
            s += "\(r.caseName),\(r.tumourType ?? ""),\(r.label),\(name(r.label)),"
                + Self.values(r.metrics).map(text).joined(separator: ",") + "," + (r.metrics.medpyHD95.map(text) ?? "") + "\n"
        }
        return s
    }

    func groupJSON(_ subset: [SegmentationRow]) -> JSONValue {
        .object(Self.metricNames.enumerated().map { k, m in
            let s = summary(subset.map { Self.values($0.metrics)[k] })
            return (m, .object([("mean", .number(s.mean)), ("sd", .number(s.sd)), ("median", .number(s.median)),
                                ("n_finite", .integer(s.finite)), ("n_cases", .integer(subset.count)),
                                ("mean_ci95", .array([.number(s.ci.low), .number(s.ci.high)]))]))
        })
    }

    public func summaryJSON() -> JSONValue {
        var items: [(String, JSONValue)] = [("cases", .integer(Set(rows.map(\.caseName)).count))]
        items.append(("labels", .object(labels.map { l in (name(l), groupJSON(rows.filter { $0.label == l })) })))
        if !types.isEmpty {
            items.append(("by_tumor_type", .object(types.map { t in
                (t, .object(labels.map { l in (name(l), groupJSON(rows.filter { $0.label == l && $0.tumourType == t })) }))
            })))
        }
        items.append(("warnings", .array(warnings.map { .string($0) })))
        items.append(("conventions", .string("MONAI definitions: Dice/IoU NaN when the ground truth is empty; HD95 NaN and ASSD +inf when one mask is empty; means over finite values")))
        return .object(items)
    }

    func markdownTable(_ subset: [SegmentationRow]) -> String {
        var s = "| label | n | Dice | IoU | HD95 (mm) | ASSD (mm) |\n|---|---|---|---|---|---|\n"
        for l in labels {
            let r = subset.filter { $0.label == l }
            guard !r.isEmpty else { continue }
            let cells = (0..<4).map { k -> String in
                let m = summary(r.map { Self.values($0.metrics)[k] })
                let digits = k < 2 ? "%.3f" : "%.2f"
                let base = String(format: "\(digits) ± \(digits)", m.mean, m.sd)
                let ci = String(format: " [\(digits), \(digits)]", m.ci.low, m.ci.high)
                return base + ci + (m.finite < r.count ? " (\(r.count - m.finite) NaN/inf)" : "")
            }
            s += "| \(name(l)) | \(r.count) | " + cells.joined(separator: " | ") + " |\n"
        }
        return s
    }

    public func markdown() -> String {
        var s = "# Segmentation evaluation\n\n\(Set(rows.map(\.caseName)).count) cases. Mean ± SD [bootstrap 95% CI of the mean, "
            + "\(replicates) replicates, cases resampled]; NaN/inf values (empty masks) are counted and left out of the means.\n\n"
        s += markdownTable(rows)
        for t in types {
            s += "\n## Tumour type \(t)\n\n" + markdownTable(rows.filter { $0.tumourType == t })
        }
        s += "\n## Plots\n\n![Dice](boxplot_dice.svg)\n![HD95](boxplot_hd95.svg)\n"
        if !warnings.isEmpty { s += "\n## Warnings\n\n" + warnings.map { "- \($0)\n" }.joined() }
        return s
    }

    /// Box plot of one metric per label, and per tumour type when known.
    public func boxPlot(metric k: Int, title: String, unit: String) -> String {
        var groups: [(name: String, values: [Double])] = []
        for l in labels {
            groups.append((name(l), rows.filter { $0.label == l }.map { Self.values($0.metrics)[k] }))
            for t in types {
                groups.append(("\(name(l)) \(t)", rows.filter { $0.label == l && $0.tumourType == t }.map { Self.values($0.metrics)[k] }))
            }
        }
        return SVGChart.boxPlot(title: title, yLabel: unit, groups: groups)
    }

    public func write(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try csv().writeAtomically(to: dir.appendingPathComponent("metrics.csv"))
        try summaryJSON().text().writeAtomically(to: dir.appendingPathComponent("summary.json"))
        try markdown().writeAtomically(to: dir.appendingPathComponent("report.md"))
        try boxPlot(metric: 0, title: "Dice per class", unit: "Dice").writeAtomically(to: dir.appendingPathComponent("boxplot_dice.svg"))
        try boxPlot(metric: 2, title: "HD95 per class", unit: "HD95 (mm)").writeAtomically(to: dir.appendingPathComponent("boxplot_hd95.svg"))
    }
}
