import AtomicFile
import ArgumentParser
import Classification
import Foundation
import Metrics
import Volumes

/// `swinliver metrics`: one segmentation pair, or a classification CSV, as JSON.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Segmentation metrics of one mask pair (Dice, IoU, HD95, ASSD in mm) or classification metrics with bootstrap CIs.")

    @Option(help: "Ground-truth label mask (NIfTI).") var gt: String?
    @Option(help: "Predicted label mask (NIfTI), same grid as --gt.") var pred: String?
    @Option(help: "Labels to evaluate (default 1,2: liver, tumour).") var labels: String = "1,2"
    @Option(help: "CSV with columns patient,label,p_HCC,p_ICC,p_CRLM (label as the class name).") var classification: String?
    @Option(help: "Bootstrap replicates for the confidence intervals.") var bootstrap = 2000
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0
    @Option(help: "With --classification: write roc.svg (bootstrap bands) and confusion.svg here.") var plots: String?

    func validate() throws {
        guard (gt != nil && pred != nil) != (classification != nil) else {
            throw ValidationError("give --gt and --pred, or --classification")
        }
        _ = try labelIDs(labels)
        try check("--bootstrap", bootstrap, in: Limits.bootstrap)
    }

    func run() throws {
        if let classification {
            let url = URL(fileURLWithPath: classification)
            print(try classificationReport(url, replicates: bootstrap, seed: seed).text())
            if let plots { try classificationPlots(url, to: URL(fileURLWithPath: plots), replicates: bootstrap, seed: seed) }
            return
        }
        var out: [(String, JSONValue)] = []
        for (id, m) in try maskPairMetrics(gt: URL(fileURLWithPath: gt!), pred: URL(fileURLWithPath: pred!), labels: labelIDs(labels)) {
            out.append((String(id), .object([("dice", .number(m.dice)), ("iou", .number(m.iou)), ("hd95", .number(m.hd95)),
                                              ("assd", .number(m.assd)),
                                              ("medpy_hd95", m.medpyHD95.map { .number($0) } ?? .string("error (empty mask)"))])))
        }
        print(JSONValue.object([("labels", .object(out))]).text())
    }
}

/// Reads a ground-truth / prediction pair (same grid, label masks, else a named error) and computes the
/// metrics of each label.
func maskPairMetrics(gt: URL, pred: URL, labels: [Int]) throws -> [(Int, SegmentationMetrics)] {
    let (g, _) = try NIfTI.read(gt), (p, _) = try NIfTI.read(pred)
    try NIfTI.checkPair(image: g, imageFile: gt.path, label: p, labelFile: pred.path)
    try NIfTI.checkLabels(g, file: gt.path)
    try NIfTI.checkLabels(p, file: pred.path)
    return try labels.map { id in
        (id, try SegmentationMetrics.compute(gt: g.values.map { Int($0) == id }, pred: p.values.map { Int($0) == id },
                                             shape: g.shape, spacing: g.spacing))
    }
}

let tumourClasses = tumourClassNames

/// ROC curves per class (one vs rest) with bootstrap bands, and the confusion matrix, as SVG.
func classificationPlots(_ url: URL, to dir: URL, replicates: Int, seed: UInt64) throws {
    let (labels, probs) = try readClassificationCSV(url)
    let m = ClassificationMetrics.compute(labels: labels, probs: probs, classes: tumourClasses.count)
    let curves = tumourClasses.enumerated().map { k, name in
        let pos = labels.map { $0 == k }, sc = probs.map { $0[k] }
        let c = rocCurve(positive: pos, scores: sc)
        let band = rocBand(positive: pos, scores: sc, replicates: replicates, seed: seed)
        return (name: String(format: "%@ (AUC %.3f)", name, m.auc[k]), fpr: c.fpr, tpr: c.tpr,
                band: Optional((fpr: band.fpr, low: band.low, high: band.high)))
    }
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try SVGChart.roc(title: "One-vs-rest ROC (95% bootstrap bands)", curves: curves)
        .writeAtomically(to: dir.appendingPathComponent("roc.svg"))
    try SVGChart.confusion(title: "Confusion matrix", classes: tumourClasses, counts: m.confusion)
        .writeAtomically(to: dir.appendingPathComponent("confusion.svg"))
}

func classificationReport(_ url: URL, replicates: Int, seed: UInt64) throws -> JSONValue {
    let (labels, probs) = try readClassificationCSV(url)
    let k = tumourClasses.count
    func stats(_ idx: [Int]) -> [Double] {
        let m = ClassificationMetrics.compute(labels: idx.map { labels[$0] }, probs: idx.map { probs[$0] }, classes: k)
        return [m.accuracy, m.macroPrecision, m.macroRecall, m.macroF1, m.macroAUC] + m.precision + m.recall + m.f1 + m.auc
    }
    let e = Metrics.bootstrap(count: labels.count, replicates: replicates, seed: seed, stats)
    let m = ClassificationMetrics.compute(labels: labels, probs: probs, classes: k)
    func perClass(_ offset: Int) -> JSONValue { .object(tumourClasses.enumerated().map { ($1, e[offset + $0].json) }) }
    let rowSums = m.confusion.map { Double(max($0.reduce(0, +), 1)) }
    return .object([
        ("patients", .integer(labels.count)), ("classes", .array(tumourClasses.map { .string($0) })),
        ("accuracy", e[0].json),
        ("precision", .object([("macro", e[1].json), ("per_class", perClass(5))])),
        ("recall", .object([("macro", e[2].json), ("per_class", perClass(5 + k))])),
        ("f1", .object([("macro", e[3].json), ("per_class", perClass(5 + 2 * k))])),
        ("auc_ovr", .object([("macro", e[4].json), ("per_class", perClass(5 + 3 * k))])),
        ("confusion_matrix", .array(m.confusion.map { .array($0.map { .integer($0) }) })),
        ("confusion_matrix_normalized", .array(m.confusion.enumerated().map { i, r in .array(r.map { .number(Double($0) / rowSums[i]) }) })),
        ("bootstrap", .object([("replicates", .integer(replicates)), ("seed", .integer(Int(seed))), ("method", .string("percentile, patients resampled"))])),
    ])
}

/// Reads patient,label,p_HCC,p_ICC,p_CRLM rows: labels as class ids, probabilities per class.
func readClassificationCSV(_ url: URL) throws -> (labels: [Int], probs: [[Double]]) {
    let text = try String(contentsOf: url, encoding: .utf8)
    var rows = try text.split(whereSeparator: \.isNewline).enumerated().map { n, line in
        guard let f = CSV.fields(line) else { throw PlainError(description: "\(url.path) line \(n + 1): a quoted field is not closed") }
        return f.map { $0.trimmingCharacters(in: .whitespaces) }
    }
    guard let header = rows.first else { throw PlainError(description: "\(url.path): empty file") }
    rows.removeFirst()
    let need = ["patient", "label"] + tumourClasses.map { "p_" + $0 }
    let col = try need.map { name -> Int in
        guard let i = header.firstIndex(of: name) else { throw PlainError(description: "\(url.path): missing column \(name) (need \(need.joined(separator: ",")))") }
        return i
    }
    var labels: [Int] = [], probs: [[Double]] = [], seen: [String: Int] = [:]
    for (n, r) in rows.enumerated() {
        guard r.count >= header.count, let y = tumourClasses.firstIndex(of: r[col[1]]) else {
            throw PlainError(description: "\(url.path) line \(n + 2): label must be one of \(tumourClasses.joined(separator: ", "))")
        }
        if let first = seen[r[col[0]]] {
            throw PlainError(description: "\(url.path) line \(n + 2): patient \(r[col[0]]) already has a row (line \(first)); one row per patient")
        }
        seen[r[col[0]]] = n + 2
        let p = try col[2...].map { i -> Double in
            // A mean of float32 softmax outputs may round a hair past 0 or 1.
            guard let v = Double(r[i]), v >= -1e-6, v <= 1 + 1e-6 else {
                throw PlainError(description: "\(url.path) line \(n + 2): probability '\(r[i])' is not a number in [0, 1]")
            }
            return v
        }
        labels.append(y)
        probs.append(p)
    }
    guard !labels.isEmpty else { throw PlainError(description: "\(url.path): no rows") }
    return (labels, probs)
}
