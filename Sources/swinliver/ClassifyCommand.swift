import ArgumentParser
import Classification
import Foundation
import Kernels
import Metrics

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
    @Option(name: .customLong("swa-start"), help: "Average the weights from this fraction of the epochs on (1 = no SWA).") var swaStart = 0.75
    @Flag(name: .customLong("aux-logits"), help: "Train with the auxiliary head (input ≥ 139 px).") var auxLogits = false
    @Option(help: "Resize the 299² slices to this size (smaller is faster; at least 75).") var size: Int?
    @Option(help: "ImageNet weights exported from torchvision (safetensors).") var pretrained: String?
    @Option(name: .customLong("max-steps"), help: "Stop each training after N steps.") var maxSteps: Int?
    @Option var seed: UInt64 = 0
    @OptionGroup var device: DeviceOptions

    var options: ClassifierOptions {
        var o = ClassifierOptions()
        o.epochs = epochs; o.batchSize = batch; o.lr = lr; o.weightDecay = weightDecay; o.labelSmoothing = labelSmoothing
        o.swaStart = swaStart; o.auxLogits = auxLogits; o.seed = seed; o.pretrained = pretrained
        return o
    }

    func read() throws -> [PatientSlices] {
        if let size, size < 75 { throw ValidationError("--size must be at least 75 (Inception-v3's smallest input)") }
        return try SliceSet.read(URL(fileURLWithPath: slices), size: size)
    }
}

struct ClassifyTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train on every patient; write classifier.safetensors.")
    @OptionGroup var args: ClassifierArguments

    func run() throws {
        let patients = try args.read()
        let trainer = try ClassifierTrainer(options: args.options, backend: try args.device.backend())
        try trainer.train(patients, maxSteps: args.maxSteps) { e, s, l in if s % 10 == 0 { print("epoch \(e + 1) step \(s) loss \(l)") } }
        let out = URL(fileURLWithPath: args.out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try trainer.write(to: out.appendingPathComponent("classifier.safetensors"), size: patients[0].size)
        print("weights: \(out.appendingPathComponent("classifier.safetensors").path)")
    }
}

struct ClassifyCV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv", abstract: "Patient-level stratified k-fold cross-validation; per-fold and pooled metrics with bootstrap CIs, ROC and confusion SVG.")
    @OptionGroup var args: ClassifierArguments
    @Option var folds = 5
    @Option(help: "Bootstrap replicates for the confidence intervals.") var replicates = 2000

    func run() throws {
        let patients = try args.read()
        let backend = try args.device.backend()
        let fold = try SliceSet.stratifiedFolds(labels: patients.map(\.label), folds: folds, seed: args.seed)
        let out = URL(fileURLWithPath: args.out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var rows = ["patient,label," + tumourClassNames.map { "p_" + $0 }.joined(separator: ",") + ",fold"]
        var perFold: [(String, JSONValue)] = []
        for k in 0..<folds {
            let train = patients.indices.filter { fold[$0] != k }.map { patients[$0] }
            let test = patients.indices.filter { fold[$0] == k }.map { patients[$0] }
            guard Set(train.map(\.patient)).isDisjoint(with: test.map(\.patient)) else { throw ValidationError("fold \(k + 1): a patient on both sides") }
            let trainer = try ClassifierTrainer(options: args.options, backend: backend)
            try trainer.train(train, maxSteps: args.maxSteps)
            var foldRows: [String] = []
            for p in test {
                let probs = try trainer.predict(p)
                foldRows.append("\(p.patient),\(tumourClassNames[p.label]),\(probs.map { String($0) }.joined(separator: ","))")
            }
            rows += foldRows.map { "\($0),\(k + 1)" }
            let foldCSV = out.appendingPathComponent("fold\(k + 1)_predictions.csv")
            try ((["patient,label," + tumourClassNames.map { "p_" + $0 }.joined(separator: ",")] + foldRows).joined(separator: "\n") + "\n")
                .write(to: foldCSV, atomically: true, encoding: .utf8)
            perFold.append(("fold\(k + 1)", try classificationReport(foldCSV, replicates: replicates, seed: args.seed)))
            print("fold \(k + 1)/\(folds): \(train.count) train, \(test.count) test patients")
        }
        let pooled = out.appendingPathComponent("predictions.csv")
        try (rows.joined(separator: "\n") + "\n").write(to: pooled, atomically: true, encoding: .utf8)
        let report = try classificationReport(pooled, replicates: replicates, seed: args.seed)
        try JSONValue.object([("pooled", report), ("folds", .object(perFold)),
                              ("assignment", .object(zip(patients, fold).map { ($0.patient, .integer($1 + 1)) }))])
            .text().write(to: out.appendingPathComponent("cv.json"), atomically: true, encoding: .utf8)
        try classificationPlots(pooled, to: out, replicates: replicates, seed: args.seed)
        let (labels, probs) = try readClassificationCSV(pooled)
        let m = ClassificationMetrics.compute(labels: labels, probs: probs, classes: tumourClassNames.count)
        print(String(format: "pooled patient-level accuracy %.3f, macro F1 %.3f, macro AUC %.3f → %@", m.accuracy, m.macroF1, m.macroAUC,
                     out.appendingPathComponent("cv.json").path))
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

    func run() throws {
        let backend = try device.backend()
        let (model, size) = try ClassifierTrainer.load(URL(fileURLWithPath: weights), backend: backend)
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
