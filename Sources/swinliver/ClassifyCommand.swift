import AtomicFile
import ArgumentParser
import Classification
import Foundation
import Kernels
import Metrics
import Models
import Volumes

/// `swinliver classify train|cv`: Inception-v3 tumour-type classification on `slices` output.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Tumour type (HCC / ICC / CRLM) from the 15 tumour slices: train, cross-validate.",
        subcommands: [ClassifyTrain.self, ClassifyCV.self, ClassifyExplain.self])
}

struct ClassifierArguments: ParsableArguments {
    @Option(help: "A `swinliver slices` folder (manifest.csv + PNG).") var slices: String
    @Option(help: "Output folder.") var out: String
    @Option var epochs = 80
    @Option var batch = 16
    @Option var lr = 1e-4
    @Option(name: .customLong("weight-decay")) var weightDecay = 1e-5
    @Option(name: .customLong("label-smoothing")) var labelSmoothing: Float = 0.1
    @Option(help: "Dropout before and inside the MLP head (torchvision's and our reading of the paper's: 0.5).") var dropout: Float = 0.5
    @Option(name: .customLong("swa-start"), help: "Average the weights from this fraction of the epochs on (1 = no SWA).") var swaStart = 0.75
    @Flag(name: .customLong("aux-logits"), help: "Train with the auxiliary head (input ≥ 139 px).") var auxLogits = false
    @Option(help: "Resize the 299² slices to this size (smaller is faster; at least 75).") var size: Int?
    @Option(help: "ImageNet weights exported from torchvision (safetensors).") var pretrained: String?
    @Option(name: .customLong("max-steps"), help: "Stop each training after N steps.") var maxSteps: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Write the resumable checkpoint every N steps (and at each epoch's end).")
    var checkpointEvery = 100
    @Flag(help: "Continue from the checkpoint in --out (the same options are required).") var resume = false
    @Flag(help: "No progress bar.") var quiet = false
    @Option var seed: UInt64 = 0
    @OptionGroup var device: DeviceOptions

    var options: ClassifierOptions {
        var o = ClassifierOptions()
        o.epochs = epochs; o.batchSize = batch; o.lr = lr; o.weightDecay = weightDecay; o.labelSmoothing = labelSmoothing
        o.swaStart = swaStart; o.auxLogits = auxLogits; o.seed = seed; o.pretrained = pretrained; o.dropout = dropout
        o.checkpointEvery = checkpointEvery; o.maxSteps = maxSteps
        return o
    }

    func validate() throws {
        try check("--epochs", epochs, in: Limits.epochs)
        try check("--batch", batch, in: Limits.batch)
        if batch < 2 { throw ValidationError("--batch 1: BatchNorm cannot train on one slice per batch; use at least 2") }
        try check("--lr", lr, in: .above(0, 10))
        try check("--weight-decay", weightDecay, in: .closed(0, 10))
        try check("--label-smoothing", labelSmoothing, in: .upTo(0, 1))
        try check("--dropout", dropout, in: .upTo(0, 1))
        try check("--swa-start", swaStart, in: .closed(0, 1))
        if let size { try checkClassifierSize(size, "--size") }
        if let maxSteps { try check("--max-steps", maxSteps, in: Limits.steps) }
        try check("--checkpoint-every", checkpointEvery, in: Limits.steps)
    }

    /// Inception-v3's input: 75…1024 px (its stem leaves nothing below 75), 139 or more with the auxiliary head.
    func checkClassifierSize(_ side: Int, _ name: String) throws {
        try check(name, side, in: Limits.classifierSize, " (Inception-v3's smallest input is 75)")
        if auxLogits && side < 139 { throw ValidationError("\(name) \(side): --aux-logits needs an input of at least 139") }
    }

    /// The slices, all of one size (resized to --size when given).
    func read() throws -> [PatientSlices] {
        let patients = try SliceSet.read(URL(fileURLWithPath: slices), size: size)
        let sides = Set(patients.flatMap { p in p.images.map { Int(Double($0.count).squareRoot()) } } + patients.map(\.size))
        guard sides.count == 1, let side = sides.first else {
            throw ValidationError("\(slices): slices of different sizes (\(sides.sorted().map { "\($0)²" }.joined(separator: ", "))); "
                                  + "pass --size N to resize them all to N × N")
        }
        if size == nil {
            do { try checkClassifierSize(side, "--size") } catch let e as ValidationError {
                throw ValidationError("\(slices): the slices are \(side) × \(side); pass --size N to resize them (\(e.message))")
            }
        }
        return patients
    }
}

struct ClassifyTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train on every patient; write classifier.safetensors (log.jsonl and a resumable checkpoint beside it).")
    @OptionGroup var args: ClassifierArguments

    func run() throws {
        let patients = try args.read()
        let trainer = try ClassifierTrainer(options: args.options, directory: URL(fileURLWithPath: args.out), backend: try args.device.backend(),
                                            quiet: args.quiet)
        trainer.slicing = try SliceSettings.read(folder: URL(fileURLWithPath: args.slices))
        try trainer.train(patients, resume: args.resume)
        print("weights: \(trainer.weightsURL.path)")
    }
}

struct ClassifyCV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv", abstract: "Patient-level stratified k-fold cross-validation; per-fold and pooled metrics with bootstrap CIs, ROC and confusion SVG.")
    @OptionGroup var args: ClassifierArguments
    @Option var folds = 5
    @Option(help: "Bootstrap replicates for the confidence intervals.") var replicates = 2000
    @Option(name: .customLong("also-score"),
            help: "Another `slices` folder of the same patients (e.g. from predicted masks): each fold's model scores its held-out patients there too (results in OUT/also-scored).")
    var alsoScore: String?

    func validate() throws {
        try check("--folds", folds, in: Limits.folds)
        try check("--replicates", replicates, in: Limits.bootstrap)
    }

    func run() throws {
        let patients = try args.read()
        // The second set is read and checked before the folds train, so a wrong folder fails at once.
        let second = try alsoScore.map { folder in
            let set = try SliceSet.read(URL(fileURLWithPath: folder), size: patients[0].size)
            try CrossValidation.checkSecondSet(set, named: "--also-score \(folder)", of: patients)
            let (a, b) = (try SliceSettings.read(folder: URL(fileURLWithPath: args.slices)), try SliceSettings.read(folder: URL(fileURLWithPath: folder)))
            guard a == b else { throw InputError("--also-score \(folder): its slices were cut with \(b), the training slices with \(a)") }
            return set
        }
        var cv = CrossValidation(folds: folds, options: args.options, replicates: replicates, quiet: args.quiet)
        cv.slicing = try SliceSettings.read(folder: URL(fileURLWithPath: args.slices))
        let backend = try args.device.backend(), out = URL(fileURLWithPath: args.out)
        let r = try cv.run(patients: patients, directory: out, backend: backend, resume: args.resume) { print($0) }
        var lines = [("", r.scores)]
        if let second, let alsoScore {
            lines.append((" (" + alsoScore + ")", try cv.score(second, named: "also-scored", of: patients, assignment: r.assignment,
                                                               directory: out, backend: backend)))
        }
        for (name, s) in lines {
            print(String(format: "pooled patient-level accuracy %.3f, macro F1 %.3f, macro AUC %.3f%@%@", s.metrics.accuracy, s.metrics.macroF1,
                         s.metrics.macroAUC, name, s.notClassified.isEmpty ? "" : "; \(s.notClassified.count) patient(s) without slices"))
        }
        print("report: \(URL(fileURLWithPath: args.out).appendingPathComponent("cv.json").path)")
    }
}

struct ClassifyExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Grad-CAM on the last mixed block, overlaid on a patient's slices (PNG).")
    @Option(help: "classifier.safetensors from `classify train`.") var weights: String
    @Option(help: "A `swinliver slices` folder.") var slices: String
    @Option(help: "Patient id (as in the slices manifest).") var patient: String
    @Option(help: "Class to explain (HCC, ICC, CRLM; default: the predicted one).") var target: String?
    @Option(help: "Output folder.") var out: String
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        if let target, !tumourClassNames.contains(target) {
            throw ValidationError("--target \(target): must be one of \(tumourClassNames.joined(separator: ", "))")
        }
    }

    func run() throws {
        let backend = try device.backend()
        let (model, size) = try loadClassifier(weights, backend: backend)
        guard let p = try SliceSet.read(URL(fileURLWithPath: slices), size: size).first(where: { $0.patient == patient }) else {
            throw ValidationError("\(slices): no patient \(patient)")
        }
        let k = try target.map { t -> Int in
            guard let i = tumourClassNames.firstIndex(of: t) else { throw ValidationError("--target must be one of \(tumourClassNames)") }
            return i
        }
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (i, image) in p.images.enumerated() {
            let cam = try GradCAM.map(model: model, backend: backend, image: image, size: size, target: k)
            let name = "\(patient)_slice\(String(format: "%02d", i))_gradcam_\(tumourClassNames[cam.target]).png"
            try PNGFile.writeRGB(GradCAM.overlay(image: image, heat: cam.heat), width: size, height: size, to: dir.appendingPathComponent(name))
        }
        print("\(p.images.count) Grad-CAM overlays for \(patient) in \(dir.path)")
    }
}

/// A classifier from `classify train` (NaN/inf weights are refused by the load), its recorded input size
/// checked as `--size` is.
func loadClassifier(_ path: String, backend: Backend) throws -> (model: InceptionV3, size: Int) {
    let loaded = try ClassifierWeights.load(URL(fileURLWithPath: path), backend: backend)
    guard Limits.classifierSize.contains(loaded.size) else {
        throw InputError("\(path): metadata 'size' \(loaded.size): must be between \(Limits.classifierSize.lowerBound) and \(Limits.classifierSize.upperBound)")
    }
    return loaded
}
