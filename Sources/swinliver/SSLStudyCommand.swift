import ArgumentParser
import Foundation
import Kernels
import Pipeline

/// `swinliver ssl-study`: SSL pretraining versus the supervised baseline in a low-label regime over several seeds, with
/// bootstrap intervals and the evidence of what pretraining did. The study is `Pipeline.SSLStudy`; this file parses.
struct SSLStudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssl-study",
        abstract: "Many unlabeled volumes, few labeled: pretrain + fine-tune vs fine-tune from scratch, per seed; DSC with 95 % CIs.")
    @Option(help: "Output folder (finished seeds and variants are kept: rerun to continue).") var out = "runs/ssl-study"
    @Option(help: "Seeds, comma-separated: one pretraining and two fine-tunes each.") var seeds = "0,1,2"
    @Option(help: "Synthetic unlabeled volumes for pretraining.") var unlabeled = 48
    @Option(help: "Labeled cases per fine-tune (drawn per seed from --pool).") var labeled = 5
    @Option(help: "Labeled cases the fine-tuning sets are drawn from.") var pool = 15
    @Option(help: "Held-out labeled cases, the same for every seed.") var test = 10
    @Option(help: "Folder of real CT scans added to the pretraining set; 'none' for synthetic volumes only.") var real = "../shared/data/real"
    @Option(name: .customLong("cohort-seed"), help: "Seed of the synthetic cohorts.") var cohortSeed: UInt64 = 0
    @Option(name: .customLong("in-plane"), help: "In-plane grid I,J of the synthetic CTs.") var inPlane = "160,130"
    @Option(name: .customLong("feature-size")) var featureSize = 12
    @Option(help: "Sub-volume size D,H,W.") var roi = "64,32,32"
    @Option(help: "Resampling spacing in mm.") var spacing = "4.0"
    @Option(name: .customLong("pretrain-epochs")) var pretrainEpochs = 20
    @Option(name: .customLong("pretrain-batch"), help: "Sub-volumes per pretraining step (two views each).") var pretrainBatch = 4
    @Option(name: .customLong("pretrain-lr")) var pretrainLR = 5e-4
    @Option(help: "Fine-tuning epochs per variant.") var epochs = 80
    @Option(help: "Sub-volumes per fine-tuning step.") var batch = 2
    @Option(help: "Peak fine-tuning learning rate.") var lr = 3e-3
    @Option(help: "Bootstrap replicates for the confidence intervals.") var replicates = 2000
    @Flag var quiet = false
    @Flag(help: "On the CPU backend, run pretraining and the baseline fine-tune one after the other instead of side by side.")
    var sequential = false
    @Option(name: .long, help: "cpu, opencl or opencl:N (default: SWINLIVER_DEVICE, else an OpenCL GPU if there is one, else cpu)")
    var device: String?

    func validate() throws {
        _ = try options
    }

    var options: SSLStudyOptions {
        get throws {
            var o = SSLStudyOptions()
            o.out = URL(fileURLWithPath: out)
            o.seeds = try listEntries(seeds, "--seeds").map { s in
                guard let v = UInt64(s) else { throw ValidationError("--seeds \(seeds): '\(s)' is not a whole number ≥ 0") }
                return v
            }
            guard Set(o.seeds).count == o.seeds.count else { throw ValidationError("--seeds \(seeds): a seed appears twice") }
            try check("--unlabeled", unlabeled, in: Limits.cases)
            try check("--pool", pool, in: Limits.cases)
            try check("--labeled", labeled, in: 2...pool, " (at most --pool)")
            try check("--test", test, in: Limits.cases)
            try check("--pretrain-epochs", pretrainEpochs, in: Limits.epochs)
            try check("--pretrain-batch", pretrainBatch, in: 2...Limits.batch.upperBound, " (the contrastive task compares at least 2 sub-volumes)")
            try check("--pretrain-lr", pretrainLR, in: .above(0, 10))
            try check("--epochs", epochs, in: Limits.epochs)
            try check("--batch", batch, in: Limits.batch)
            try check("--lr", lr, in: .above(0, 10))
            try check("--replicates", replicates, in: Limits.bootstrap)
            try checkFeatureSize(featureSize)
            o.unlabeled = unlabeled; o.labeled = labeled; o.pool = pool; o.test = test
            o.real = real == "none" ? nil : URL(fileURLWithPath: real)
            o.cohortSeed = cohortSeed; o.inPlane = try inPlaneGrid(inPlane); o.featureSize = featureSize
            o.roi = try roiTriple(roi, "--roi"); o.spacing = try spacingTriple(spacing, "--spacing")
            o.pretrainEpochs = pretrainEpochs; o.pretrainBatch = pretrainBatch; o.pretrainLR = pretrainLR
            o.epochs = epochs; o.batch = batch; o.lr = lr; o.replicates = replicates; o.quiet = quiet
            return o
        }
    }

    func run() throws {
        let spec = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment)
        try SSLStudy(options: try options, makeBackend: { try spec.makeBackend() }, sideBySide: spec == .cpu && !sequential,
                     say: { print($0); fflush(nil) }).run()
    }
}
