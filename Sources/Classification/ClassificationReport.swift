import AtomicFile
import Foundation
import Metrics
import Volumes

/// One patient's predicted class probabilities (in `tumourClassNames` order) and true class.
public struct PatientPrediction: Sendable, Equatable {
    public var patient: String
    public var label: Int
    public var probabilities: [Double]
    public init(patient: String, label: Int, probabilities: [Double]) {
        self.patient = patient; self.label = label; self.probabilities = probabilities
    }
    public var predicted: Int { probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0 }
}

/// A predictions file or a report that cannot be made: the file and line, or what is missing.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Patient-level classification results: the predictions CSV (patient,label,p_HCC,p_ICC,p_CRLM), the metrics
/// with percentile-bootstrap 95 % CIs (patients resampled) as JSON, and the ROC / confusion SVGs.
public enum ClassificationReport {
    public static var header: String { "patient,label," + tumourClassNames.map { "p_" + $0 }.joined(separator: ",") }

    public static func csv(_ rows: [PatientPrediction]) -> String {
        ([header] + rows.map { CSV.line([$0.patient, tumourClassNames[$0.label]] + $0.probabilities.map { String($0) }) })
            .joined(separator: "\n") + "\n"
    }

    /// Reads patient,label,p_HCC,p_ICC,p_CRLM rows (other columns ignored); one row per patient.
    public static func read(_ url: URL) throws -> [PatientPrediction] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var rows = try text.split(whereSeparator: \.isNewline).enumerated().map { n, line in
            guard let f = CSV.fields(line) else { throw ReportError("\(url.path) line \(n + 1): a quoted field is not closed") }
            return f.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard let header = rows.first else { throw ReportError("\(url.path): empty file") }
        rows.removeFirst()
        let need = ["patient", "label"] + tumourClassNames.map { "p_" + $0 }
        let col = try need.map { name -> Int in
            guard let i = header.firstIndex(of: name) else { throw ReportError("\(url.path): missing column \(name) (need \(need.joined(separator: ",")))") }
            return i
        }
        var out: [PatientPrediction] = [], seen: [String: Int] = [:]
        for (n, r) in rows.enumerated() {
            guard r.count >= header.count, let y = tumourClassNames.firstIndex(of: r[col[1]]) else {
                throw ReportError("\(url.path) line \(n + 2): label must be one of \(tumourClassNames.joined(separator: ", "))")
            }
            if let first = seen[r[col[0]]] {
                throw ReportError("\(url.path) line \(n + 2): patient \(r[col[0]]) already has a row (line \(first)); one row per patient")
            }
            seen[r[col[0]]] = n + 2
            let p = try col[2...].map { i -> Double in
                // A mean of float32 softmax outputs may round a hair past 0 or 1.
                guard let v = Double(r[i]), v >= -1e-6, v <= 1 + 1e-6 else {
                    throw ReportError("\(url.path) line \(n + 2): probability '\(r[i])' is not a number in [0, 1]")
                }
                return v
            }
            out.append(PatientPrediction(patient: r[col[0]], label: y, probabilities: p))
        }
        guard !out.isEmpty else { throw ReportError("\(url.path): no rows") }
        return out
    }

    public static func metrics(_ rows: [PatientPrediction]) -> ClassificationMetrics {
        ClassificationMetrics.compute(labels: rows.map(\.label), probs: rows.map(\.probabilities), classes: tumourClassNames.count)
    }

    /// Accuracy and macro / per-class precision, recall, F1 and one-vs-rest AUC, each with its percentile-bootstrap
    /// 95 % CI (patients resampled).
    public struct Estimates: Sendable {
        public var accuracy: Estimate, macroPrecision: Estimate, macroRecall: Estimate, macroF1: Estimate, macroAUC: Estimate
        public var precision: [Estimate], recall: [Estimate], f1: [Estimate], auc: [Estimate]
    }

    public static func estimates(_ rows: [PatientPrediction], replicates: Int, seed: UInt64) -> Estimates {
        let k = tumourClassNames.count
        func stats(_ idx: [Int]) -> [Double] {
            let m = metrics(idx.map { rows[$0] })
            return [m.accuracy, m.macroPrecision, m.macroRecall, m.macroF1, m.macroAUC] + m.precision + m.recall + m.f1 + m.auc
        }
        let e = Metrics.bootstrap(count: rows.count, replicates: replicates, seed: seed, stats)
        return Estimates(accuracy: e[0], macroPrecision: e[1], macroRecall: e[2], macroF1: e[3], macroAUC: e[4],
                         precision: Array(e[5..<5 + k]), recall: Array(e[5 + k..<5 + 2 * k]), f1: Array(e[5 + 2 * k..<5 + 3 * k]),
                         auc: Array(e[5 + 3 * k..<5 + 4 * k]))
    }

    /// The report as JSON: the estimates, the confusion matrix, the bootstrap's settings.
    public static func json(_ rows: [PatientPrediction], replicates: Int, seed: UInt64) -> JSONValue {
        .object(fields(rows, estimates: estimates(rows, replicates: replicates, seed: seed), replicates: replicates, seed: seed))
    }

    /// The fields of `json` from estimates already computed (`estimates(rows, replicates:, seed:)`), for a report
    /// that adds its own.
    public static func fields(_ rows: [PatientPrediction], estimates e: Estimates, replicates: Int, seed: UInt64) -> [(String, JSONValue)] {
        let m = metrics(rows)
        func perClass(_ v: [Estimate]) -> JSONValue { .object(zip(tumourClassNames, v).map { ($0, $1.json) }) }
        let rowSums = m.confusion.map { Double(max($0.reduce(0, +), 1)) }
        return [
            ("patients", .integer(rows.count)), ("classes", .array(tumourClassNames.map { .string($0) })),
            ("accuracy", e.accuracy.json),
            ("precision", .object([("macro", e.macroPrecision.json), ("per_class", perClass(e.precision))])),
            ("recall", .object([("macro", e.macroRecall.json), ("per_class", perClass(e.recall))])),
            ("f1", .object([("macro", e.macroF1.json), ("per_class", perClass(e.f1))])),
            ("auc_ovr", .object([("macro", e.macroAUC.json), ("per_class", perClass(e.auc))])),
            ("confusion_matrix", .array(m.confusion.map { .array($0.map { .integer($0) }) })),
            ("confusion_matrix_normalized", .array(m.confusion.enumerated().map { i, r in .array(r.map { .number(Double($0) / rowSums[i]) }) })),
            ("bootstrap", .object([("replicates", .integer(replicates)), ("seed", .integer(Int(seed))), ("method", .string("percentile, patients resampled"))])),
        ]
    }

    /// ROC curves per class (one vs rest) with bootstrap bands (roc.svg) and the confusion matrix (confusion.svg).
    public static func plots(_ rows: [PatientPrediction], to dir: URL, replicates: Int, seed: UInt64) throws {
        let m = metrics(rows)
        let curves = tumourClassNames.enumerated().map { k, name in
            let pos = rows.map { $0.label == k }, sc = rows.map { $0.probabilities[k] }
            let c = rocCurve(positive: pos, scores: sc)
            let band = rocBand(positive: pos, scores: sc, replicates: replicates, seed: seed)
            return (name: String(format: "%@ (AUC %.3f)", name, m.auc[k]), fpr: c.fpr, tpr: c.tpr,
                    band: Optional((fpr: band.fpr, low: band.low, high: band.high)))
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SVGChart.roc(title: "One-vs-rest ROC (95% bootstrap bands)", curves: curves)
            .writeAtomically(to: dir.appendingPathComponent("roc.svg"))
        try SVGChart.confusion(title: "Confusion matrix", classes: tumourClassNames, counts: m.confusion)
            .writeAtomically(to: dir.appendingPathComponent("confusion.svg"))
    }
}
