import ArgumentParser
import Foundation
import Kernels
import Models
import Train
import TrainingLoop
import Volumes

/// The options `pretrain`, `train` and `ablate` share.
struct RunArguments: ParsableArguments {
    @Option(help: "Dataset: a folder (manifest.csv, dataset.json, LiTS or plain NIfTI files) or a manifest CSV.")
    var data: String
    @Option(help: "Run folder (checkpoints, logs, weights).") var out: String
    @Option(name: .customLong("feature-size"), help: "Swin UNETR feature size (multiple of 12; the paper: 48).")
    var featureSize = 48
    @Option(help: "Sub-volume size, N or D,H,W (multiples of 32, at least 64 on one axis).") var roi = "96"
    @Option(help: "Sub-volumes per step.") var batch = 2
    @Option(name: .customLong("samples"), help: "Sub-volumes drawn from each volume per epoch.") var samples = 2
    @Option(help: "Epochs.") var epochs = 100
    @Option(help: "Peak learning rate (AdamW).") var lr: Double?
    @Option(name: .customLong("weight-decay")) var weightDecay = 1e-5
    @Option(help: "Linear warm-up, as a fraction of all steps.") var warmup = 0.05
    @Option(help: "Resampling spacing in mm (MONAI Spacingd).") var spacing = "1.5,1.5,2.0"
    @Option(help: "Seed for the split, sampling, augmentation and initialisation.") var seed: UInt64 = 0
    @Option(name: .customLong("checkpoint-every"), help: "Write the resumable checkpoint every N steps.") var checkpointEvery = 50
    @Option(name: .customLong("max-steps"), help: "Stop after N steps in total (checkpoint first).") var maxSteps: Int?
    @Flag(help: "Continue the run in --out from its checkpoint.") var resume = false
    @Flag(help: "No progress bar; the log file only.") var quiet = false
    @OptionGroup var device: DeviceOptions

    func cases() throws -> [CaseEntry] { try Dataset.cases(at: URL(fileURLWithPath: data)) }

    /// Every numeric option in range (argument-parser calls this before the command's own validate()).
    func validate() throws {
        try checkFeatureSize(featureSize)
        _ = try roiTriple(roi, "--roi")
        try check("--batch", batch, in: Limits.batch)
        try check("--samples", samples, in: Limits.samples)
        try check("--epochs", epochs, in: Limits.epochs)
        if let lr { try check("--lr", lr, in: .above(0, 10)) }
        try check("--weight-decay", weightDecay, in: .closed(0, 10))
        try check("--warmup", warmup, in: .upTo(0, 1))
        _ = try spacingTriple(spacing, "--spacing")
        try check("--checkpoint-every", checkpointEvery, in: Limits.steps)
        if let maxSteps { try check("--max-steps", maxSteps, in: Limits.steps) }
    }
}

/// `swinliver pretrain`: self-supervised pretraining of the Swin encoder.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Self-supervised pretraining (inpainting, flip prediction, contrastive) of the Swin UNETR encoder.")
    @OptionGroup var common: RunArguments
    @Option(help: "Proxy tasks: any of inpaint,flip,contrast.") var tasks = "inpaint,flip,contrast"
    @Option(name: .customLong("lambda-inpaint")) var lambdaInpaint: Float = 1
    @Option(name: .customLong("lambda-flip")) var lambdaFlip: Float = 1
    @Option(name: .customLong("lambda-contrast")) var lambdaContrast: Float = 1
    @Option(help: "NT-Xent temperature.") var temperature: Float = 0.5

    func validate() throws {
        for (name, v) in [("--lambda-inpaint", lambdaInpaint), ("--lambda-flip", lambdaFlip), ("--lambda-contrast", lambdaContrast)] {
            try check(name, v, in: .closed(0, 1000))
        }
        try check("--temperature", temperature, in: .above(0, 100))
        _ = try options()
    }

    func options() throws -> PretrainOptions {
        var o = PretrainOptions()
        o.featureSize = common.featureSize; o.roi = try roiTriple(common.roi, "--roi"); o.batchSize = common.batch
        o.samplesPerVolume = common.samples; o.epochs = common.epochs; o.lr = common.lr ?? o.lr; o.weightDecay = common.weightDecay
        o.warmupFraction = common.warmup; o.spacing = try spacingTriple(common.spacing, "--spacing"); o.seed = common.seed
        o.checkpointEvery = common.checkpointEvery; o.maxSteps = common.maxSteps
        o.tasks = try PretrainTask.parse(tasks).map(\.rawValue).sorted()
        o.lambdaInpaint = lambdaInpaint; o.lambdaFlip = lambdaFlip; o.lambdaContrast = lambdaContrast
        o.temperature = temperature
        guard !o.tasks.isEmpty else { throw ValidationError("--tasks needs at least one of inpaint, flip, contrast") }
        return o
    }

    func run() throws {
        let backend = try common.device.backend()
        let p = try Pretrainer(options: try options(), cases: try common.cases(), directory: URL(fileURLWithPath: common.out),
                               backend: backend, quiet: common.quiet)
        try p.run(resume: common.resume)
        print("encoder: \(p.encoderURL.path)")
    }
}

/// `swinliver train`: supervised fine-tuning (background / liver / tumour).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Fine-tune Swin UNETR for liver and tumour segmentation (Dice+CE, AdamW, cosine).")
    @OptionGroup var common: RunArguments
    @Option(name: .customLong("init-encoder"), help: "Encoder weights (swinViT.*) from `pretrain`; none = supervised baseline.")
    var initEncoder: String?
    @Option(name: .customLong("validate-every"), help: "Validate every N epochs (and after the last); 0: never (final.safetensors only).") var validateEvery = 10
    @Option(name: .customLong("train-fraction"), help: "Patients in the training split.") var trainFraction = 0.7
    @Option(help: "Sliding-window overlap for validation.") var overlap = 0.5
    @Option(name: .customLong("flip-prob"), help: "RandFlipd probability per axis.") var flipProbability = 0.1
    @Option(name: .customLong("rotate-prob"), help: "RandRotate90d probability.") var rotateProbability = 0.1
    @Option(name: .customLong("zoom-prob"), help: "RandZoomd probability (0.9–1.1).") var zoomProbability = 0.0
    @Option(name: .customLong("intensity-prob"), help: "RandScaleIntensityd / RandShiftIntensityd probability.")
    var intensityProbability = 0.1
    @Option(name: .customLong("class-ratios"), help: "Crop centres by class, e.g. 1,1,2 (background, liver, tumour; MONAI RandCropByLabelClassesd) instead of pos/neg.")
    var classRatios: String?
    @Flag(name: .customLong("batch-dice"), help: "Dice over the whole batch per class (MONAI DiceCELoss(batch=True), nnU-Net) instead of per sub-volume.")
    var batchDice = false

    func validate() throws {
        try check("--validate-every", validateEvery, in: 0...Limits.epochs.upperBound)
        try check("--train-fraction", trainFraction, in: .open(0, 1))
        try check("--overlap", overlap, in: .upTo(0, 1))
        for (name, p) in [("--flip-prob", flipProbability), ("--rotate-prob", rotateProbability), ("--zoom-prob", zoomProbability),
                          ("--intensity-prob", intensityProbability)] {
            try check(name, p, in: .closed(0, 1))
        }
        _ = try options()
    }

    func options() throws -> FineTuneOptions {
        var o = FineTuneOptions()
        o.featureSize = common.featureSize; o.roi = try roiTriple(common.roi, "--roi"); o.batchSize = common.batch
        o.samplesPerVolume = common.samples; o.epochs = common.epochs; o.lr = common.lr ?? o.lr; o.weightDecay = common.weightDecay
        o.warmupFraction = common.warmup; o.spacing = try spacingTriple(common.spacing, "--spacing"); o.seed = common.seed
        o.checkpointEvery = common.checkpointEvery; o.maxSteps = common.maxSteps; o.validateEvery = validateEvery
        o.trainFraction = trainFraction; o.overlap = overlap; o.initEncoder = initEncoder
        o.batchDice = batchDice ? true : nil
        o.flipProbability = flipProbability; o.rotate90Probability = rotateProbability
        o.zoomProbability = zoomProbability; o.intensityProbability = intensityProbability
        if let classRatios {
            let r = try numberList(classRatios, "--class-ratios")
            guard (2...3).contains(r.count), r.allSatisfy({ (0...1000).contains($0) }), r.reduce(0, +) > 0 else {
                throw ValidationError("--class-ratios \(classRatios): needs 2 or 3 numbers (background, liver, tumour), each in [0, 1000], not all 0")
            }
            o.classRatios = r
        }
        return o
    }

    func run() throws {
        let backend = try common.device.backend()
        let t = try FineTuner(options: try options(), cases: try common.cases(), directory: URL(fileURLWithPath: common.out),
                              backend: backend, quiet: common.quiet)
        if let best = try t.run(resume: common.resume) { print(best.summary) }
        print("weights: \(t.directory.appendingPathComponent("best.safetensors").path)")
    }
}
