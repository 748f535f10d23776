import AtomicFile
import Foundation
import Kernels
import Train
import TrainingLoop
import Volumes

/// The paper's whole pipeline on built-in synthetic data (`make demo`): pretrain the Swin encoder with all three
/// proxy tasks → fine-tune with and without it (SSL vs baseline) → score the held-out cases → segment a second,
/// classification cohort with the SSL model → slices through the largest tumour from ground-truth and from
/// predicted masks → 5-fold patient-level CV of the tumour type → `run` reports on the held-out CTs → the real scans.
/// Writes everything under `options.out`, the numbers in summary.json.
public struct Demo {
    public let options: DemoOptions
    /// Makes a backend for each job (the baseline fine-tune gets its own when it runs side by side).
    public let makeBackend: () throws -> Backend
    /// Side by side on a CPU backend (two jobs fill two cores); one after the other on a GPU.
    public let sideBySide: Bool
    public let say: (String) -> Void

    public init(options: DemoOptions, makeBackend: @escaping () throws -> Backend, sideBySide: Bool, say: @escaping (String) -> Void) {
        self.options = options; self.makeBackend = makeBackend; self.sideBySide = sideBySide; self.say = say
    }

    /// What the run produced (also in summary.json).
    public struct Outcome {
        public var baseline: VariantResult, ssl: VariantResult
        public var classification: DemoClassification.Outcome
        public var summary: [String: Any]
    }

    @discardableResult
    public func run() throws -> Outcome {
        let start = Date()
        func elapsed() -> String { String(format: "%.0f s", Date().timeIntervalSince(start)) }
        let backend = try makeBackend()
        say("device: \(backend.deviceName)\(sideBySide ? " (the baseline fine-tune and the tumour-type CV on threads of their own)" : "")")
        let out = options.out, data = out.appendingPathComponent("data")
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("manifest.csv").path) {
            try SyntheticCohort.write(cases: options.cases, to: data, seed: options.seed, generator: SyntheticCT(inPlaneVoxels: options.inPlane))
        }
        say("cohort: \(options.cases) synthetic cases in \(data.path) (\(elapsed()))")
        let all = try Dataset.cases(at: data)
        let split = try Split.load(or: out.appendingPathComponent("split.json"), patients: all.map(\.patient), strata: Split.strata(of: all),
                                   seed: options.seed)
        let train = all.filter { split.trainPatients.contains($0.patient) }
        let heldOut = all.filter { split.validationPatients.contains($0.patient) }
        let segmentation = DemoSegmentation(options: options, cases: all, heldOut: heldOut, label: sideBySide)

        // On the CPU backend the baseline fine-tunes on its own thread beside pretraining and the SSL fine-tune: one run
        // keeps two cores only partly busy, two side by side fill them (BENCHMARKS.md). The baseline's backend is made
        // here, so a device error shows at once; should one side fail, the run stops with its error (checkpoints are
        // written atomically, so neither side leaves a torn file).
        let baselineJob = try (sideBySide ? makeBackend() : nil).map { b in BackgroundJob { try segmentation.fineTune("baseline", encoder: nil, backend: b) } }
        // The tumour-type CV trains on ground-truth-mask slices, so it needs no segmentation model: on the CPU it runs on a
        // third thread and takes up what the two segmentation jobs leave of the cores.
        let classification = DemoClassification(options: options, say: say)
        let cohort = try classification.prepare()
        let cvJob = try (sideBySide ? makeBackend() : nil).map { b in
            BackgroundJob { try classification.crossValidate(cohort, backend: b, label: "classify") }
        }
        // Pretraining sees more volumes than fine-tuning labels: the training CTs and the classification cohort's CTs (other
        // patients than the held-out ones; their labels are not used).
        let volumes = train + cohort.cases.map { CaseEntry(image: $0.image, label: nil, tumourType: nil, patient: "classification-" + $0.patient) }
        let encoder = try segmentation.pretrain(volumes, backend: backend)
        let curves = try SSLStudy.pretrainingCurves(out.appendingPathComponent("pretrain/log.jsonl"), batch: options.pretrainBatch)
        say("pretrained (inpaint, flip, contrast) on \(volumes.count) volumes: \(encoder.path) (\(elapsed()))")
        say(SSLStudy.describe(curves))
        let ssl = try segmentation.fineTune("ssl", encoder: encoder, backend: backend)
        say("ssl fine-tuned and evaluated (\(elapsed()))")
        let baseline = try baselineJob?.wait() ?? segmentation.fineTune("baseline", encoder: nil, backend: backend)
        say("baseline fine-tuned and evaluated (\(elapsed()))")

        let cv = try cvJob?.wait() ?? classification.crossValidate(cohort, backend: backend)
        say("tumour type cross-validated (\(elapsed()))")
        let sslWeights = out.appendingPathComponent("ssl/final.safetensors")
        let outcome = try classification.finish(cohort, cv: cv, segmentationWeights: sslWeights, heldOutCTs: heldOut.map(\.image), backend: backend)
        say("predicted-mask slices scored, reports written (\(elapsed()))")
        let real = try segmentation.realScans(weights: sslWeights, classifier: outcome.reportClassifier, backend: backend, say: say)

        var summary: [String: Any] = ["device": backend.deviceName, "held_out_cases": heldOut.count, "train_cases": train.count,
                                      "settings": options.json, "baseline": baseline.json, "ssl": ssl.json,
                                      "pretraining": curves.merging(["volumes": volumes.count]) { a, _ in a },
                                      "classification": outcome.json, "reports": outcome.reports.map(\.path) + real.reports.map(\.path),
                                      "real_scans": real.json]
        summary["seconds"] = Date().timeIntervalSince(start)
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            .writeAtomically(to: out.appendingPathComponent("summary.json"))
        say("\nheld-out synthetic cases (\(heldOut.count)), evaluated on each CT's own grid:")
        say(VariantResult.header)
        for r in [baseline, ssl] { say(r.row) }
        say("\n" + outcome.table)
        say("\nsummary: \(out.appendingPathComponent("summary.json").path) (\(elapsed()) in all)")
        return Outcome(baseline: baseline, ssl: ssl, classification: outcome, summary: summary)
    }
}
