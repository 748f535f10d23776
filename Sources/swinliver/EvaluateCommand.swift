import ArgumentParser
import Foundation
import Metrics
import Pipeline
import Volumes

/// `swinliver evaluate`: predicted masks against ground truth, matched by file name.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a folder of predicted masks against ground truth: metrics.csv, summary.json, report.md, SVG plots.")

    @Option(help: "Folder of predicted label masks (.nii / .nii.gz).") var pred: String
    @Option(help: "Folder of ground-truth label masks with the same file names.") var gt: String
    @Option(help: "CSV manifest (image,label,tumor_type,patient_id) giving each case's tumour type.") var manifest: String?
    @Option(help: "Output folder.") var out: String = "evaluation"
    @Option(help: "Labels to evaluate (1 = liver, 2 = tumour).") var labels: String = "1,2"
    @Option(help: "Bootstrap replicates for the confidence intervals.") var bootstrap = 2000
    @Option var seed: UInt64 = 0

    func validate() throws {
        _ = try labelIDs(labels)
        try check("--bootstrap", bootstrap, in: Limits.bootstrap)
    }

    func run() throws {
        let ids = try labelIDs(labels)
        let gtCases = try niftiCases(in: gt), predCases = try niftiCases(in: pred)
        let types = try manifest.map { try tumourTypes(URL(fileURLWithPath: $0)) } ?? [:]
        var warnings: [String] = []
        for name in gtCases.keys.sorted() where predCases[name] == nil { warnings.append("no prediction for \(name) in \(pred)") }
        for name in predCases.keys.sorted() where gtCases[name] == nil { warnings.append("prediction \(name) has no ground truth in \(gt)") }
        for w in warnings { FileHandle.standardError.write("warning: \(w)\n".data(using: .utf8)!) }
        var rows: [SegmentationRow] = []
        for name in gtCases.keys.sorted() {
            guard let p = predCases[name], let g = gtCases[name] else { continue }
            for (id, m) in try maskPairMetrics(gt: g, pred: p, labels: ids) {
                rows.append(SegmentationRow(caseName: name, tumourType: types[name], label: id, metrics: m))
            }
        }
        guard !rows.isEmpty else { throw ValidationError("no case has both a prediction and a ground truth") }
        var report = SegmentationReport(rows: rows, labelNames: [0: "background", 1: "liver", 2: "tumor"], warnings: warnings)
        report.replicates = bootstrap
        report.seed = seed
        try report.write(to: URL(fileURLWithPath: out))
        print(report.markdown())
        print("wrote \(out)/metrics.csv, summary.json, report.md, boxplot_dice.svg, boxplot_hd95.svg")
    }
}

/// Case name (file name without .nii / .nii.gz) → file.
func niftiCases(in dir: String) throws -> [String: URL] {
    let url = URL(fileURLWithPath: dir)
    let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
    var out: [String: URL] = [:]
    for n in names {
        if let stem = NIfTI.stem(n) { out[stem] = url.appendingPathComponent(n) }
    }
    return out
}

/// Case name of each manifest row's label file → tumour type.
func tumourTypes(_ url: URL) throws -> [String: String] {
    let lines = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline)
    guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }),
          let li = header.firstIndex(of: "label"), let ti = header.firstIndex(of: "tumor_type") else {
        throw ValidationError("\(url.path): needs the columns image,label,tumor_type,patient_id")
    }
    var out: [String: String] = [:]
    for line in lines.dropFirst() {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard f.count > max(li, ti) else { continue }
        let file = (f[li] as NSString).lastPathComponent
        out[NIfTI.stem(file) ?? file] = f[ti]
    }
    return out
}
