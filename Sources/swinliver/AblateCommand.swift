import AtomicFile
import ArgumentParser
import Foundation
import Kernels
import Models
import Pipeline
import Train
import Volumes

/// `swinliver ablate`: the paper's Table 2 — pretraining with each non-empty subset of the three proxy
/// tasks and the supervised baseline, each fine-tuned with the same split and settings, scored on the
/// held-out patients.
struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate", abstract: "Pretrain with every subset of {inpaint, flip, contrast} (+ baseline), fine-tune each, tabulate.")
    @OptionGroup var common: RunArguments
    @Option(name: .customLong("pretrain-epochs"), help: "Pretraining epochs per variant.") var pretrainEpochs = 50
    @Option(name: .customLong("pretrain-lr")) var pretrainLR = 5e-4
    @Option(name: .customLong("validate-every")) var validateEvery = 10
    @Option(help: "Variants to run (default: all 8), e.g. baseline,inpaint+flip+contrast.") var variants: String?

    static let subsets: [[PretrainTask]] = [[], [.inpaint], [.flip], [.contrast], [.inpaint, .flip], [.inpaint, .contrast],
                                            [.flip, .contrast], [.inpaint, .flip, .contrast]]

    static func name(_ subset: [PretrainTask]) -> String {
        subset.isEmpty ? "baseline" : subset.map(\.rawValue).joined(separator: "+")
    }

    func validate() throws {
        try check("--pretrain-epochs", pretrainEpochs, in: Limits.epochs)
        try check("--pretrain-lr", pretrainLR, in: .above(0, 10))
        try check("--validate-every", validateEvery, in: 0...Limits.epochs.upperBound)
        _ = try chosenVariants()
    }

    /// The variants `--variants` names (all 8 without it); an unknown name is an error.
    func chosenVariants() throws -> [String] {
        let names = Self.subsets.map(Self.name)
        guard let variants else { return names }
        let chosen = try listEntries(variants, "--variants")
        if let unknown = chosen.first(where: { !names.contains($0) }) {
            throw ValidationError("--variants: unknown variant '\(unknown)'; variants: \(names.joined(separator: ", "))")
        }
        return chosen
    }

    func run() throws {
        let backend = try common.device.backend()
        let out = URL(fileURLWithPath: common.out)
        let cases = try common.cases().filter { $0.label != nil }
        let split = try Split.load(or: out.appendingPathComponent("split.json"), patients: cases.map(\.patient),
                                   strata: Split.strata(of: cases), seed: common.seed)
        let train = cases.filter { split.trainPatients.contains($0.patient) }
        let heldOut = cases.filter { split.validationPatients.contains($0.patient) }
        var results: [VariantResult] = []
        let chosen = try chosenVariants()
        for subset in Self.subsets where chosen.contains(Self.name(subset)) {
            let name = Self.name(subset)
            let dir = out.appendingPathComponent(name)
            var encoder: String?
            if !subset.isEmpty {
                var p = PretrainOptions()
                p.featureSize = common.featureSize; p.roi = try roiTriple(common.roi, "--roi"); p.batchSize = max(common.batch, 2)
                p.samplesPerVolume = common.samples; p.epochs = pretrainEpochs; p.lr = pretrainLR; p.seed = common.seed
                p.spacing = try spacingTriple(common.spacing, "--spacing"); p.tasks = subset.map(\.rawValue).sorted()
                p.checkpointEvery = common.checkpointEvery
                let pre = try Pretrainer(options: p, cases: train, directory: dir.appendingPathComponent("pretrain"), backend: backend,
                                         quiet: common.quiet)
                try pre.run(resume: false)
                encoder = pre.encoderURL.path
            }
            var f = FineTuneOptions()
            f.featureSize = common.featureSize; f.roi = try roiTriple(common.roi, "--roi"); f.batchSize = common.batch
            f.samplesPerVolume = common.samples; f.epochs = common.epochs; f.lr = common.lr ?? f.lr; f.seed = common.seed
            f.spacing = try spacingTriple(common.spacing, "--spacing"); f.validateEvery = validateEvery; f.initEncoder = encoder
            f.checkpointEvery = common.checkpointEvery; f.maxSteps = common.maxSteps
            let tuneDir = dir.appendingPathComponent("train")
            try FileManager.default.createDirectory(at: tuneDir, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: tuneDir.appendingPathComponent("split.json"))
            try FileManager.default.copyItem(at: out.appendingPathComponent("split.json"), to: tuneDir.appendingPathComponent("split.json"))
            let tuner = try FineTuner(options: f, cases: cases, directory: tuneDir, backend: backend, quiet: common.quiet)
            try tuner.run(resume: false)
            results.append(try segmentAndScore(name: name, weights: tuneDir.appendingPathComponent("best.safetensors"), cases: heldOut,
                                               predictions: dir.appendingPathComponent("predictions"), backend: backend))
            print(results.last!.row)
        }
        let table = ([VariantResult.header] + results.map(\.row)).joined(separator: "\n")
        try (table + "\n").writeAtomically(to: out.appendingPathComponent("ablation.md"))
        let json = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0.json) })
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            .writeAtomically(to: out.appendingPathComponent("ablation.json"))
        print(table)
    }
}
