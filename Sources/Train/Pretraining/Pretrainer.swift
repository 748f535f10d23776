import AtomicFile
import Foundation
import Kernels
import Models
import SafeTensors
import SeededRandom
import Volumes
import TrainingLoop

/// Everything that defines a pretraining run (stored in its checkpoints and `options.json`).
public struct PretrainOptions: RunOptions, Equatable, Sendable {
    public var featureSize = 48
    public var roi = [96, 96, 96]
    /// Sub-volumes per step (each gives two views, so the network sees twice as many).
    public var batchSize = 2
    public var samplesPerVolume = 2
    public var epochs = 100
    public var lr = 5e-4
    public var weightDecay = 1e-5
    public var warmupFraction = 0.05
    public var checkpointEvery = 50
    public var seed: UInt64 = 0
    public var spacing = [1.5, 1.5, 2.0]
    public var tasks = ["inpaint", "flip", "contrast"]
    public var lambdaInpaint: Float = 1
    public var lambdaFlip: Float = 1
    public var lambdaContrast: Float = 1
    public var temperature: Float = 0.5
    public var projection = 512
    public var maxSteps: Int?

    public init() {}
}

/// Self-supervised pretraining on CT volumes (labels, where present, are not used): random
/// sub-volumes, two views each, the enabled proxy tasks. Writes to `directory`: options.json, log.jsonl,
/// checkpoint.safetensors (resumable) and encoder.safetensors — the whole SSL network with the
/// encoder under MONAI's `swinViT.*` keys, which `train --init-encoder` (or MONAI with strict=False) loads.
public final class Pretrainer {
    public static let format = "swinliver.ssl_head.v1"
    public let options: PretrainOptions
    public let directory: URL
    public let backend: Backend
    public let model: SSLHead
    let cases: [CaseEntry]
    let log: RunLog

    public init(options: PretrainOptions, cases: [CaseEntry], directory: URL, backend: Backend, quiet: Bool,
                label: String? = nil) throws {
        guard !cases.isEmpty else { throw TrainingError(directory.path, "no CT volumes to pretrain on") }
        self.options = options; self.directory = directory; self.backend = backend; self.cases = cases
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        model = try SSLHead(SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: options.featureSize),
                            projection: options.projection, backend: backend, seed: options.seed)
        log = try RunLog(url: directory.appendingPathComponent("log.jsonl"), quiet: quiet, label: label)
    }

    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    public var encoderURL: URL { directory.appendingPathComponent("encoder.safetensors") }

    public func run(resume: Bool) throws {
        let tasks = try PretrainTask.parse(options.tasks.joined(separator: ","))
        let optimizer = AdamW(hyper: AdamWHyper(lr: Float(options.lr), weightDecay: Float(options.weightDecay)), backend: backend)
        let step = try PretrainStep(model: model, optimizer: optimizer, backend: backend, tasks: tasks)
        step.weights = [.inpaint: options.lambdaInpaint, .flip: options.lambdaFlip, .contrast: options.lambdaContrast]
        step.temperature = options.temperature
        var position = RunPosition()
        let optionsJSON = try options.json()
        if resume {
            position = try TrainingCheckpoint.resume(checkpointURL, model: model, optimizer: optimizer, options: optionsJSON,
                                                     backend: backend)
            log.say("resuming at step \(position.step) (epoch \(position.epoch + 1))")
        }
        try optimizer.use(try ParameterArena(model.namedParameters(), backend: backend))
        try Data(optionsJSON.utf8).writeAtomically(to: directory.appendingPathComponent("options.json"))
        let unlabeled = cases.map { c in var u = c; u.label = nil; return u }
        let loader = try PatchLoader(cases: unlabeled, preprocessing: Preprocessing(spacing: options.spacing),
                                     sampler: PatchSampler(roi: options.roi, samples: options.samplesPerVolume),
                                     augmentation: .none, batchSize: options.batchSize, seed: options.seed, labelsRequired: false,
                                     dropLast: true)
        let perEpoch = loader.batchesPerEpoch(samplesPerCase: options.samplesPerVolume)
        guard perEpoch > 0 else {
            throw TrainingError(directory.path, "\(cases.count) volumes × \(options.samplesPerVolume) samples make no batch of \(options.batchSize)")
        }
        let total = options.epochs * perEpoch
        let loop = EpochLoop(epochs: options.epochs, stepsPerEpoch: perEpoch, checkpointEvery: options.checkpointEvery,
                             maxSteps: options.maxSteps,
                             schedule: WarmupCosine(peak: options.lr, warmup: Int(Double(total) * options.warmupFraction), total: total),
                             samplesPerStep: options.batchSize)
        try loop.run(loader: loader, position: &position, log: log, step: { batch, index, lr in
            optimizer.hyper.lr = Float(lr)
            // The views of step i depend only on (seed, i): a resumed run draws the same ones.
            var rng = SplitMix64(seed: options.seed ^ (UInt64(index) &* 0x9e37_79b9_7f4a_7c15))
            let l = try step(images: batch.images, count: batch.count, size: batch.size, rng: &rng)
            return zip(PretrainStep.lossNames, l).map { ($0, $1) }
        }, endOfEpoch: { _, _ in }, checkpoint: { position in
            try TrainingCheckpoint.write(model: model, optimizer: optimizer, position: position, options: optionsJSON,
                                         to: checkpointURL, backend: backend)
            try writeEncoder()
            return checkpointURL
        })
    }

    func writeEncoder() throws {
        var w = SafeTensorsWriter()
        w.metadata = ["format": Self.format, "tasks": options.tasks.joined(separator: ","),
                      "config": String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self)]
        try model.stateDict(into: &w, backend: backend)
        try w.write(to: encoderURL)
    }
}
