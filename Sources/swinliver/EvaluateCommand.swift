import ArgumentParser
import Foundation
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
        let report = try FolderEvaluation.run(predictions: URL(fileURLWithPath: pred), groundTruth: URL(fileURLWithPath: gt),
                                              manifest: manifest.map { URL(fileURLWithPath: $0) }, labels: try labelIDs(labels),
                                              replicates: bootstrap, seed: seed,
                                              warn: { FileHandle.standardError.write("warning: \($0)\n".data(using: .utf8)!) })
        try report.write(to: URL(fileURLWithPath: out))
        print(report.markdown())
        print("wrote \(out)/metrics.csv, summary.json, report.md, boxplot_dice.svg, boxplot_hd95.svg")
    }
}
