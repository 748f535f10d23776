import ArgumentParser
import Foundation
import Kernels
import Pipeline

/// `swinliver demo` (`make demo`): the paper's whole pipeline on built-in synthetic data — pretrain, fine-tune with
/// and without the pretrained encoder, segment and score the held-out cases, classify the tumour type (5-fold CV from
/// ground-truth and from predicted masks), write `run` reports, and segment the real scans in `../shared/data/real`
/// (or `--real`). The pipeline is `Pipeline.Demo`; this file parses the options.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Synthetic cohort → pretrain → fine-tune (SSL vs baseline) → segment → classify tumour type (5-fold CV) → reports.")
    @Option(help: "Output folder.") var out = "runs/demo"
    @Option(help: "Synthetic cases.") var cases = 16
    @Option(name: .customLong("in-plane"), help: "In-plane grid I,J of the synthetic CTs (the field of view stays 30–38 cm).")
    var inPlane = "160,130"
    @Option(name: .customLong("feature-size")) var featureSize = 12
    @Option(help: "Sub-volume size (D,H,W: left–right, back–front, foot–head after RAS).") var roi = "64,32,32"
    @Option(help: "Resampling spacing in mm.") var spacing = "4.0"
    @Option(name: .customLong("pretrain-epochs"), help: "Pretraining epochs (over the training CTs and the classification cohort's CTs).")
    var pretrainEpochs = 4
    @Option(name: .customLong("pretrain-batch"), help: "Sub-volumes per pretraining step (two views each; at least 2).") var pretrainBatch = 4
    @Option(help: "Fine-tuning epochs per variant.") var epochs = 36
    @Option(help: "Sub-volumes per fine-tuning step.") var batch = 2
    @Option(help: "Peak fine-tuning learning rate.") var lr = 3e-3
    @Flag(name: .customLong("no-batch-dice"), help: "Dice per sub-volume (MONAI's default) instead of over the batch.")
    var noBatchDice = false
    @Option(help: "Folder of real CT scans with liver masks (the project's shared data).") var real = "../shared/data/real"
    @Option var seed: UInt64 = 0
    @Flag var quiet = false
    @Flag(help: "On the CPU backend, fine-tune the two variants one after the other instead of side by side.")
    var sequential = false
    @Option(name: .customLong("classify-cases"), help: "Synthetic cases of the classification cohort (other patients than the segmentation cohort's).")
    var classifyCases = 45
    @Option(name: .customLong("classify-in-plane"), help: "In-plane grid I,J of the classification cohort's CTs.") var classifyInPlane = "256,208"
    @Option(name: .customLong("classifier-size"), help: "Classifier input edge in pixels (the paper's 299; at least 75).") var classifierSize = 75
    @Option(name: .customLong("classifier-epochs"), help: "Classifier epochs per fold (the paper's 80).") var classifierEpochs = 10
    @Option(name: .customLong("classifier-batch")) var classifierBatch = 16
    @Option(name: .customLong("classifier-lr")) var classifierLR = 1e-3
    @Option(name: .customLong("classifier-dropout"), help: "Dropout before and inside the classifier's MLP head.") var classifierDropout: Float = 0.2
    @Option var folds = 5
    @Option(help: "Bootstrap replicates for the confidence intervals.") var replicates = 2000
    @Option(name: .long, help: "cpu, opencl or opencl:N (default: SWINLIVER_DEVICE, else an OpenCL GPU if there is one, else cpu)")
    var device: String?

    func validate() throws {
        try check("--cases", cases, in: Limits.cases)
        _ = try inPlaneGrid(inPlane)
        try checkFeatureSize(featureSize)
        _ = try roiTriple(roi, "--roi")
        _ = try spacingTriple(spacing, "--spacing")
        try check("--pretrain-epochs", pretrainEpochs, in: Limits.epochs)
        try check("--pretrain-batch", pretrainBatch, in: 2...Limits.batch.upperBound, " (the contrastive task compares at least 2 sub-volumes)")
        try check("--epochs", epochs, in: Limits.epochs)
        try check("--batch", batch, in: Limits.batch)
        try check("--lr", lr, in: .above(0, 10))
        try check("--classify-cases", classifyCases, in: Limits.cases)
        if classifyCases < folds { throw ValidationError("--classify-cases \(classifyCases): \(folds) folds need at least \(folds) cases") }
        _ = try inPlaneGrid(classifyInPlane, "--classify-in-plane")
        try check("--classifier-size", classifierSize, in: Limits.classifierSize, " (Inception-v3's smallest input is 75)")
        try check("--classifier-epochs", classifierEpochs, in: Limits.epochs)
        try check("--classifier-batch", classifierBatch, in: Limits.batch)
        if classifierBatch < 2 { throw ValidationError("--classifier-batch 1: BatchNorm cannot train on one slice per batch; use at least 2") }
        try check("--classifier-lr", classifierLR, in: .above(0, 10))
        try check("--classifier-dropout", classifierDropout, in: .upTo(0, 1))
        try check("--folds", folds, in: Limits.folds)
        try check("--replicates", replicates, in: Limits.bootstrap)
    }

    var options: DemoOptions {
        get throws {
            var o = DemoOptions()
            o.out = URL(fileURLWithPath: out); o.cases = cases; o.inPlane = try inPlaneGrid(inPlane); o.featureSize = featureSize
            o.roi = try roiTriple(roi, "--roi"); o.spacing = try spacingTriple(spacing, "--spacing"); o.pretrainEpochs = pretrainEpochs; o.pretrainBatch = pretrainBatch
            o.epochs = epochs; o.batch = batch; o.lr = lr; o.batchDice = !noBatchDice; o.real = URL(fileURLWithPath: real); o.seed = seed
            o.quiet = quiet; o.sequential = sequential
            o.classifyCases = classifyCases; o.classifyInPlane = try inPlaneGrid(classifyInPlane, "--classify-in-plane")
            o.classifierSize = classifierSize; o.classifierEpochs = classifierEpochs; o.classifierBatch = classifierBatch
            o.classifierLR = classifierLR; o.classifierDropout = classifierDropout; o.folds = folds; o.replicates = replicates
            return o
        }
    }

    func run() throws {
        let spec = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment)
        try Demo(options: try options, makeBackend: { try spec.makeBackend() }, sideBySide: spec == .cpu && !sequential,
                 say: { print($0); fflush(nil) }).run()   // each line as it happens, also when the output goes to a file
    }
}
