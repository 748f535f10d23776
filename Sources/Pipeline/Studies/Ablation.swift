import AtomicFile
import Foundation
import Kernels
import Models
import Train
import Volumes

/// The paper's Table 2 (`swinliver ablate`): pretraining with each chosen subset of the three proxy tasks (none = the
/// supervised baseline), each fine-tuned with the same split and settings and scored on the held-out patients.
/// Writes `<variant>/pretrain`, `<variant>/train`, `<variant>/predictions`, then ablation.md and ablation.json.
public struct Ablation {
    /// Every subset of {inpaint, flip, contrast}, the empty one (the baseline) first.
    public static let subsets: [[PretrainTask]] = [[], [.inpaint], [.flip], [.contrast], [.inpaint, .flip], [.inpaint, .contrast],
                                                   [.flip, .contrast], [.inpaint, .flip, .contrast]]

    /// "baseline" or the tasks joined by "+", e.g. "inpaint+flip".
    public static func name(_ subset: [PretrainTask]) -> String {
        subset.isEmpty ? "baseline" : subset.map(\.rawValue).joined(separator: "+")
    }

    public static var variantNames: [String] { subsets.map(name) }

    /// Pretraining settings shared by every variant (tasks are set per variant).
    public var pretrain: PretrainOptions
    /// Fine-tuning settings shared by every variant (the encoder is set per variant).
    public var fineTune: FineTuneOptions
    /// Variant names to run (a subset of `variantNames`).
    public var variants: [String]
    public var quiet = false

    public init(pretrain: PretrainOptions, fineTune: FineTuneOptions, variants: [String], quiet: Bool) {
        self.pretrain = pretrain; self.fineTune = fineTune; self.variants = variants; self.quiet = quiet
    }

    /// Runs the chosen variants on `cases` (the labeled ones; the split in `out`/split.json is made or reused) and
    /// returns their held-out results in `subsets` order; `say` gets each row as it is done.
    @discardableResult
    public func run(cases all: [CaseEntry], out: URL, backend: Backend, say: (String) -> Void) throws -> [VariantResult] {
        let cases = all.filter { $0.label != nil }
        let splitURL = out.appendingPathComponent("split.json")
        let split = try Split.load(or: splitURL, patients: cases.map(\.patient), strata: Split.strata(of: cases), seed: fineTune.seed)
        let train = cases.filter { split.trainPatients.contains($0.patient) }
        let heldOut = cases.filter { split.validationPatients.contains($0.patient) }
        var results: [VariantResult] = []
        for subset in Self.subsets where variants.contains(Self.name(subset)) {
            let name = Self.name(subset), dir = out.appendingPathComponent(name)
            var encoder: String?
            if !subset.isEmpty {
                var p = pretrain
                p.tasks = subset.map(\.rawValue).sorted()
                let pre = try Pretrainer(options: p, cases: train, directory: dir.appendingPathComponent("pretrain"), backend: backend, quiet: quiet)
                try pre.run(resume: false)
                encoder = pre.encoderURL.path
            }
            var f = fineTune
            f.initEncoder = encoder
            let tuneDir = dir.appendingPathComponent("train")
            try FileManager.default.createDirectory(at: tuneDir, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: tuneDir.appendingPathComponent("split.json"))
            try FileManager.default.copyItem(at: splitURL, to: tuneDir.appendingPathComponent("split.json"))
            let tuner = try FineTuner(options: f, cases: cases, directory: tuneDir, backend: backend, quiet: quiet)
            try tuner.run(resume: false)
            results.append(try segmentAndScore(name: name, weights: tuneDir.appendingPathComponent("best.safetensors"), cases: heldOut,
                                               predictions: dir.appendingPathComponent("predictions"), backend: backend))
            say(results.last!.row)
        }
        let table = ([VariantResult.header] + results.map(\.row)).joined(separator: "\n")
        try (table + "\n").writeAtomically(to: out.appendingPathComponent("ablation.md"))
        let json = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0.json) })
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            .writeAtomically(to: out.appendingPathComponent("ablation.json"))
        say(table)
        return results
    }
}
