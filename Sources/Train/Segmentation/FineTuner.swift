import AtomicFile
import Autograd
import Foundation
import Kernels
import Metrics
import Models
import SafeTensors
import SeededRandom
import Volumes
import TrainingLoop

/// Supervised fine-tuning of Swin UNETR (background / liver / tumour) with Dice+CE and AdamW on a
/// warm-up + cosine schedule, validation by sliding-window inference (DSC / IoU / HD95 per class on the
/// preprocessed grid), the best weights by mean foreground Dice. Files in `directory`: split.json,
/// options.json, log.jsonl, checkpoint.safetensors (resumable), best.safetensors and final.safetensors
/// (inference weights, MONAI keys, config in the metadata), validation.json.
public final class FineTuner {
    public let options: FineTuneOptions
    public let directory: URL
    public let backend: Backend
    public let model: SwinUNETR
    public let split: Split
    let cases: [CaseEntry]
    let log: RunLog

    public init(options: FineTuneOptions, cases: [CaseEntry], directory: URL, backend: Backend, quiet: Bool,
                label: String? = nil) throws {
        self.options = options; self.directory = directory; self.backend = backend
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let labeled = cases.filter { $0.label != nil }
        guard labeled.count >= 2 else {
            throw TrainingError(directory.path, "fine-tuning needs at least 2 labeled cases, found \(labeled.count)")
        }
        self.cases = labeled
        split = try Split.load(or: directory.appendingPathComponent("split.json"), patients: labeled.map(\.patient), strata: Split.strata(of: labeled),
                               trainFraction: options.trainFraction, seed: options.seed)
        var config = SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: options.featureSize)
        config.normalize = true
        model = try SwinUNETR(config, backend: backend, seed: options.seed)
        log = try RunLog(url: directory.appendingPathComponent("log.jsonl"), quiet: quiet, label: label)
    }

    public var trainCases: [CaseEntry] { cases.filter { split.trainPatients.contains($0.patient) } }
    public var validationCases: [CaseEntry] { cases.filter { split.validationPatients.contains($0.patient) } }
    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }

    /// Loads `swinViT.*` from a pretraining (or MONAI) file into the encoder.
    public static func loadEncoder(_ url: URL, into model: SwinUNETR, backend: Backend) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.keys.contains(where: { $0.hasPrefix("swinViT.") }) else {
            throw TrainingError(url.path, "no swinViT.* tensors: not a Swin UNETR encoder")
        }
        try model.swinViT.load(from: file, prefix: "swinViT.", backend: backend)
    }

    /// Trains (or continues with `resume`) to the end; returns the best validation result.
    @discardableResult
    public func run(resume: Bool) throws -> ValidationResult? {
        let optimizer = AdamW(hyper: AdamWHyper(lr: Float(options.lr), weightDecay: Float(options.weightDecay)), backend: backend)
        let step = SegmentationStep(model: model, optimizer: optimizer, backend: backend)
        step.lossOptions.batch = options.batchDice ?? false
        var position = RunPosition()
        let optionsJSON = try options.json()
        if resume {
            position = try TrainingCheckpoint.resume(checkpointURL, model: model, optimizer: optimizer, options: optionsJSON,
                                                     backend: backend)
            log.say("resuming at step \(position.step) (epoch \(position.epoch + 1))")
        } else if let encoder = options.initEncoder {
            try Self.loadEncoder(URL(fileURLWithPath: encoder), into: model, backend: backend)
            log.say("encoder initialised from \(encoder)")
        }
        try optimizer.use(try ParameterArena(model.namedParameters(), backend: backend))
        try Data(optionsJSON.utf8).writeAtomically(to: directory.appendingPathComponent("options.json"))
        var sampler = PatchSampler(roi: options.roi, positive: options.positive, negative: options.negative,
                                   samples: options.samplesPerVolume)
        sampler.classRatios = options.classRatios
        let loader = try PatchLoader(cases: trainCases, preprocessing: options.preprocessing, sampler: sampler,
                                     augmentation: options.augmentation, batchSize: options.batchSize, seed: options.seed)
        let perEpoch = loader.batchesPerEpoch(samplesPerCase: options.samplesPerVolume)
        let total = options.epochs * perEpoch
        let loop = EpochLoop(epochs: options.epochs, stepsPerEpoch: perEpoch, checkpointEvery: options.checkpointEvery,
                             maxSteps: options.maxSteps,
                             schedule: WarmupCosine(peak: options.lr, warmup: Int(Double(total) * options.warmupFraction), total: total),
                             samplesPerStep: options.batchSize)
        var validation: Validation?
        var best: ValidationResult?
        // One blocking call per step: each step's loss is read while the next one runs (a NaN still stops before
        // the weights change, naming its step).
        let pipeline = try PipelinedTraining(step: step, firstIndex: position.step)
        let named = { (r: (index: Int, values: [Float])) -> FinishedStep in
            (r.index, [("loss", r.values[0]), ("dice", r.values[1]), ("ce", r.values[2])])
        }
        try loop.run(loader: loader, position: &position, log: log, pipelinedStep: { batch, _, lr in
            optimizer.hyper.lr = Float(lr)
            let shape = Shape([batch.count, 1] + batch.size)
            let previous = try pipeline(images: batch.images, labels: batch.labels, imageShape: shape, labelShape: shape) {
                batch.images.allSatisfy(\.isFinite)
            }
            return previous.map { [named($0)] } ?? []
        }, drain: {
            try pipeline.finish().map { [named($0)] } ?? []
        }, endOfEpoch: { epoch, position in
            let last = epoch + 1 == options.epochs
            guard options.validateEvery > 0, (epoch + 1) % options.validateEvery == 0 || last else { return }
            if validation == nil { validation = try Validation(cases: validationCases, preprocessing: options.preprocessing) }
            let segmenter = VolumeSegmenter(model: model, backend: backend,
                                            window: SlidingWindowOptions(roi: options.roi, overlap: options.overlap))
            let result = try validation!.run(segmenter, epoch: epoch + 1)
            try log.record(result.record)
            log.say(result.summary)
            if position.bestScore == nil || result.score > position.bestScore! {
                position.bestScore = result.score
                position.bestEpoch = epoch + 1
                best = result
                try SwinUNETRFile.write(model, to: directory.appendingPathComponent("best.safetensors"), backend: backend,
                                        metadata: options.inferenceSettings.metadata)
                try writeJSON(result.json, to: directory.appendingPathComponent("validation.json"))
            }
        }, checkpoint: { position in
            try TrainingCheckpoint.write(model: model, optimizer: optimizer, position: position, options: optionsJSON,
                                         to: checkpointURL, backend: backend)
            return checkpointURL
        })
        try SwinUNETRFile.write(model, to: directory.appendingPathComponent("final.safetensors"), backend: backend,
                                metadata: options.inferenceSettings.metadata)
        return best
    }

}

func writeJSON(_ value: Any, to url: URL) throws {
    try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys]).writeAtomically(to: url)
}
