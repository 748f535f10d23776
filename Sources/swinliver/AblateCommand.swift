import ArgumentParser
import Foundation
import Pipeline
import Train

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

    func validate() throws {
        try check("--pretrain-epochs", pretrainEpochs, in: Limits.epochs)
        try check("--pretrain-lr", pretrainLR, in: .above(0, 10))
        try check("--validate-every", validateEvery, in: 0...Limits.epochs.upperBound)
        _ = try chosenVariants()
    }

    /// The variants `--variants` names (all 8 without it); an unknown name is an error.
    func chosenVariants() throws -> [String] {
        let names = Ablation.variantNames
        guard let variants else { return names }
        let chosen = try listEntries(variants, "--variants")
        if let unknown = chosen.first(where: { !names.contains($0) }) {
            throw ValidationError("--variants: unknown variant '\(unknown)'; variants: \(names.joined(separator: ", "))")
        }
        return chosen
    }

    func run() throws {
        var p = PretrainOptions()
        p.featureSize = common.featureSize; p.roi = try roiTriple(common.roi, "--roi"); p.batchSize = max(common.batch, 2)
        p.samplesPerVolume = common.samples; p.epochs = pretrainEpochs; p.lr = pretrainLR; p.seed = common.seed
        p.spacing = try spacingTriple(common.spacing, "--spacing"); p.checkpointEvery = common.checkpointEvery
        var f = FineTuneOptions()
        f.featureSize = common.featureSize; f.roi = try roiTriple(common.roi, "--roi"); f.batchSize = common.batch
        f.samplesPerVolume = common.samples; f.epochs = common.epochs; f.lr = common.lr ?? f.lr; f.seed = common.seed
        f.spacing = try spacingTriple(common.spacing, "--spacing"); f.validateEvery = validateEvery
        f.checkpointEvery = common.checkpointEvery; f.maxSteps = common.maxSteps
        try Ablation(pretrain: p, fineTune: f, variants: try chosenVariants(), quiet: common.quiet)
            .run(cases: try common.cases(), out: URL(fileURLWithPath: common.out), backend: try common.device.backend(), say: { print($0) })
    }
}
