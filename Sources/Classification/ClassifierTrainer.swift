import AtomicFile
import Autograd
import Foundation
import Kernels
import Models
import SafeTensors
import TrainingLoop

/// How the tumour-type classifier is trained (defaults: the paper's recipe). Stored in its checkpoints (a
/// resume with other options is refused) and in `options.json`.
public struct ClassifierOptions: RunOptions, Equatable, Sendable {
    public var epochs = 80
    public var batchSize = 16
    public var lr = 1e-4
    public var weightDecay = 1e-5
    public var warmupFraction = 0.05
    public var labelSmoothing: Float = 0.1
    /// Stochastic weight averaging over the epochs from this fraction on (1 = off).
    public var swaStart = 0.75
    public var auxLogits = false
    public var dropout: Float = 0.5
    public var seed: UInt64 = 0
    /// ImageNet weights exported from torchvision (`fc` and `AuxLogits.fc` are not loaded: their shapes differ).
    public var pretrained: String?
    public var checkpointEvery = 100
    public var maxSteps: Int?
    public init() {}
}

/// Inception-v3 with the paper's head, trained on slices in the shared `EpochLoop`: AdamW over a parameter
/// arena, warm-up + cosine, cross-entropy with label smoothing, slice-level oversampling of minority classes,
/// flips / 90° turns / intensity jitter (`SliceBatches`), stochastic weight averaging with BatchNorm statistics
/// recomputed afterwards. Files in `directory`: options.json, log.jsonl, checkpoint.safetensors (resumable; the
/// weight average under `extra.swa.*`) and classifier.safetensors (torchvision keys, options in the metadata).
public final class ClassifierTrainer {
    public let options: ClassifierOptions
    public let directory: URL
    public let backend: Backend
    public let model: InceptionV3
    /// A checkpoint (about 390 MB at Inception-v3's size) at every epoch's end, or only every `checkpointEvery` steps
    /// and at the end of the run.
    public var checkpointEachEpoch = true
    /// How the training slices were cut: recorded in classifier.safetensors.
    public var slicing = SliceSettings()
    let log: RunLog

    public init(options: ClassifierOptions, directory: URL, backend: Backend, quiet: Bool, label: String? = nil) throws {
        self.options = options; self.directory = directory; self.backend = backend
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        model = try InceptionV3(classes: tumourClassNames.count, auxLogits: options.auxLogits, head: .mlp(dropout: options.dropout),
                                backend: backend, seed: options.seed)
        log = try RunLog(url: directory.appendingPathComponent("log.jsonl"), quiet: quiet, label: label)
    }

    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    public var weightsURL: URL { directory.appendingPathComponent("classifier.safetensors") }

    /// ImageNet weights from torchvision for everything but the classification heads.
    func loadPretrained(_ path: String) throws {
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
        let head = Set(file.keys.filter { $0.hasPrefix("fc.") || $0.hasPrefix("AuxLogits.fc.") })
        for (name, child) in model.children where name != "fc" && !(name == "AuxLogits" && !options.auxLogits) {
            if name == "AuxLogits", let aux = child as? InceptionAux {
                for (n, c) in aux.children where n != "fc" { try c.load(from: file, prefix: "AuxLogits.\(n).", backend: backend) }
            } else {
                try child.load(from: file, prefix: name + ".", ignoring: head, backend: backend)
            }
        }
    }

    /// Trains on `patients` (or continues from the checkpoint with `resume`) to the end, then writes
    /// classifier.safetensors. A non-finite loss stops the run (`TrainingStopped`, naming the step).
    public func train(_ patients: [PatientSlices], resume: Bool) throws {
        guard let size = patients.first?.size, patients.allSatisfy({ $0.size == size && !$0.images.isEmpty }) else {
            throw TrainingError(directory.path, "the classifier needs patients with slices, all of one size")
        }
        let batches = SliceBatches(patients: patients, batchSize: options.batchSize, seed: options.seed)
        let optimizer = AdamW(hyper: AdamWHyper(lr: Float(options.lr), weightDecay: Float(options.weightDecay)), backend: backend)
        var position = RunPosition()
        var swa: [String: Tensor] = [:]
        let optionsJSON = try options.json()
        if resume {
            position = try TrainingCheckpoint.resume(checkpointURL, model: model, optimizer: optimizer, options: optionsJSON,
                                                     backend: backend)
            for (name, t) in try TrainingCheckpoint.extra(checkpointURL, backend: backend) where name.hasPrefix("swa.") {
                swa[String(name.dropFirst(4))] = t
            }
            log.say("resuming at step \(position.step) (epoch \(position.epoch + 1))")
        } else if let p = options.pretrained {
            try loadPretrained(p)
        }
        try optimizer.use(try ParameterArena(model.namedParameters(), backend: backend))
        try Data(optionsJSON.utf8).writeAtomically(to: directory.appendingPathComponent("options.json"))
        let total = options.epochs * batches.stepsPerEpoch
        var loop = EpochLoop(epochs: options.epochs, stepsPerEpoch: batches.stepsPerEpoch, checkpointEvery: options.checkpointEvery,
                             maxSteps: options.maxSteps,
                             schedule: WarmupCosine(peak: options.lr, warmup: Int(Double(total) * options.warmupFraction), total: total),
                             samplesPerStep: options.batchSize)
        loop.checkpointAtEpochEnd = checkpointEachEpoch
        // The weights are averaged after each epoch from `swaFrom` on; after epoch e the average holds e − swaFrom + 1.
        let swaFrom = options.swaStart < 1 ? Int((Double(options.epochs) * options.swaStart).rounded(.down)) : Int.max
        model.training = true
        try loop.run(loader: batches, position: &position, log: log, step: { batch, index, lr in
            optimizer.hyper.lr = Float(lr)
            let x = try backend.upload(batches.images(of: batch), shape: Shape(batch.items.count, 3, size, size), name: "slice batch")
            let tape = Tape(backend: backend)
            let out = try model.forward(tape.input(x), tape: tape, seed: options.seed &+ UInt64(index))
            var loss = try tape.crossEntropy(out.logits, classes: batch.labels, smoothing: options.labelSmoothing)
            if let aux = out.auxLogits {   // torchvision's recipe: 0.4 × the auxiliary loss
                loss = try tape.add(loss, try tape.scale(try tape.crossEntropy(aux, classes: batch.labels, smoothing: options.labelSmoothing), 0.4))
            }
            let value = try backend.download(loss.value)[0]
            guard value.isFinite else {
                throw NonFiniteLoss(values: ["loss": value], inputFinite: batch.items.allSatisfy { patients[$0.patient].images[$0.slice].allSatisfy(\.isFinite) },
                                    step: index)
            }
            try optimizer.zeroGradients()
            try tape.backward(loss)
            try optimizer.update(model.namedParameters())
            return [("loss", value)]
        }, endOfEpoch: { epoch, _ in
            guard epoch >= swaFrom else { return }
            let averaged = epoch - swaFrom   // epochs already in the average
            for (key, p) in model.namedParameters() {
                if let s = swa[key], averaged > 0 {
                    try backend.axpy(alpha: 1 / Float(averaged + 1), x: try backend.elementwise(.sub, p.value, s), y: s)
                } else {
                    swa[key] = try backend.copy(p.value, name: "swa \(key)")
                }
            }
        }, checkpoint: { position in
            try TrainingCheckpoint.write(model: model, optimizer: optimizer, position: position, options: optionsJSON, to: checkpointURL,
                                         backend: backend, extra: Dictionary(uniqueKeysWithValues: swa.map { ("swa." + $0.key, $0.value) }))
            return checkpointURL
        })
        if !swa.isEmpty {
            for (key, p) in model.namedParameters() { try backend.copy(swa[key]!, into: p.value) }
            try updateBatchNorm(patients, size: size)
            log.say("weights averaged over the last \(options.epochs - swaFrom) epochs; BatchNorm statistics recomputed")
        }
        model.training = false
        try ClassifierWeights.write(model, options: options, size: size, slicing: slicing, to: weightsURL, backend: backend)
    }

    /// torch.optim.swa_utils.update_bn: running statistics recomputed as the cumulative average over one
    /// pass of the (unaugmented) training slices with the averaged weights.
    func updateBatchNorm(_ patients: [PatientSlices], size: Int) throws {
        let norms = model.batchNorms
        let saved = norms.map(\.momentum)
        for bn in norms {
            try bn.runningMean.assign(try backend.zeros(bn.runningMean.value.shape, name: "running_mean"))
            try bn.runningVar.assign(try backend.full(bn.runningVar.value.shape, value: 1, name: "running_var"))
        }
        let all = patients.flatMap(\.images)
        model.training = true
        for (k, range) in SliceBatches.bounds(all.count, batchSize: options.batchSize).enumerated() {
            for bn in norms { bn.momentum = 1 / Float(k + 1) }
            let part = all[range]
            let tape = Tape(backend: backend, recording: false)
            _ = try model.forward(tape.input(try ClassifierWeights.batch(Array(part), size: size, backend: backend)), tape: tape)
        }
        for (bn, m) in zip(norms, saved) { bn.momentum = m }
        model.training = false
    }

    /// Patient-level class probabilities: the mean of the slice softmax outputs (eval mode).
    public func predict(_ p: PatientSlices) throws -> [Double] {
        try ClassifierWeights.predict(model, backend: backend, images: p.images, size: p.size, batch: options.batchSize)
    }
}
