import AtomicFile
import ArgumentParser
import Classification
import Foundation
import Metrics
import Pipeline
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
            let rows = try ClassificationReport.read(url)
            print(ClassificationReport.json(rows, replicates: bootstrap, seed: seed).text())
            if let plots { try ClassificationReport.plots(rows, to: URL(fileURLWithPath: plots), replicates: bootstrap, seed: seed) }
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

