import Classification
import Foundation
import Kernels
import Metrics
import Models
import Train
import Volumes

/// The demo's classification half, in `out/classification`: a cohort of its own (data/) and the 15 slices through
/// each largest tumour from the ground-truth masks (slices-ground-truth/); 5-fold patient-level CV trained on them
/// (cv/) — which needs no segmentation model, so it can run beside the segmentation half; then every case segmented by
/// the SSL model (predicted-masks/), the slices through the largest *predicted* tumour (slices-predicted/), scored by
/// the fold models (cv/predicted-masks/); and `run` reports on the segmentation cohort's held-out CTs (reports/) with
/// fold 1's classifier (those patients are in no fold).
public struct DemoClassification {
    let options: DemoOptions
    let say: (String) -> Void
    var dir: URL { options.out.appendingPathComponent("classification") }
    var cv: CrossValidation {
        var o = ClassifierOptions()
        o.epochs = options.classifierEpochs; o.batchSize = options.classifierBatch; o.lr = options.classifierLR; o.seed = options.seed
        o.dropout = options.classifierDropout
        o.checkpointEvery = 1000
        var cv = CrossValidation(folds: options.folds, options: o, replicates: options.replicates, quiet: options.quiet)
        cv.slicing = options.slicing
        cv.checkpointEachEpoch = false   // 50 epoch ends × ~390 MB otherwise; the demo does not resume
        return cv
    }

    public init(options: DemoOptions, say: @escaping (String) -> Void) { self.options = options; self.say = say }

    /// The classification cohort and its ground-truth-mask slices.
    public struct Cohort: Sendable {
        public var cases: [CaseEntry]
        public var patients: [PatientSlices]
    }

    public func prepare() throws -> Cohort {
        let data = dir.appendingPathComponent("data")
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("manifest.csv").path) {
            try SyntheticCohort.write(cases: options.classifyCases, to: data, seed: options.classifySeed,
                                      generator: SyntheticCT(inPlaneVoxels: options.classifyInPlane))
        }
        let cases = try Dataset.cases(at: data)
        let gtDir = dir.appendingPathComponent("slices-ground-truth")
        _ = try SliceExport.write(SliceExport.cases(of: cases), to: gtDir, settings: options.slicing)
        say("classification cohort: \(cases.count) synthetic cases (seed \(options.classifySeed)), slices in \(gtDir.path)")
        return Cohort(cases: cases, patients: try SliceSet.read(gtDir, size: options.classifierSize))
    }

    /// The 5-fold CV on the ground-truth-mask slices; `label` prefixes its progress lines when it runs beside others.
    public func crossValidate(_ cohort: Cohort, backend: Backend, label: String? = nil) throws -> CrossValidation.Result {
        var cv = self.cv
        cv.label = label
        return try cv.run(patients: cohort.patients, directory: dir.appendingPathComponent("cv"), backend: backend, resume: false, progress: say)
    }

    public struct Outcome {
        public var groundTruth: CrossValidation.Scores
        /// Nil when no predicted mask held a tumour.
        public var predicted: CrossValidation.Scores?
        /// Mean tumour Dice of the SSL model's masks on the classification cohort.
        public var tumourDice: Double
        public var reports: [URL]
        public var reportClassifier: (model: InceptionV3, size: Int, slicing: SliceSettings)
        public var json: [String: Any]
        public var table: String
    }

    /// Segments the cohort with the SSL model, scores the predicted-mask slices with the fold models, writes the reports.
    public func finish(_ cohort: Cohort, cv result: CrossValidation.Result, segmentationWeights: URL, heldOutCTs: [URL], backend: Backend)
        throws -> Outcome
    {
        let segmenter = try Segmenter(weights: segmentationWeights, backend: backend)
        let masks = dir.appendingPathComponent("predicted-masks")
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        var predictedCases: [SliceExport.Case] = [], dice: [Double] = []
        for c in cohort.cases {
            guard let label = c.label else { continue }
            let s = try segmenter.segment(c.image)
            let dest = masks.appendingPathComponent(c.image.lastPathComponent)
            try NIfTI.write(s.mask, to: dest, as: .uint8, like: s.header)
            let truth = try NIfTI.read(label).volume.values
            dice.append(Self.dice(truth.map { $0.rounded() == 2 }, s.mask.values.map { $0.rounded() == 2 }))
            predictedCases.append(SliceExport.Case(patient: c.patient, image: c.image, mask: dest, type: c.tumourType?.rawValue ?? ""))
        }
        let tumourDice = dice.reduce(0, +) / Double(max(dice.count, 1))
        say(String(format: "segmented %d classification cases with the SSL model (tumour DSC %.3f on this cohort)", dice.count, tumourDice))
        let predDir = dir.appendingPathComponent("slices-predicted")
        let written = try SliceExport.write(predictedCases, to: predDir, settings: options.slicing)
        if !written.missing.isEmpty { say("\(written.missing.count) predicted mask(s) without a tumour: \(written.missing.joined(separator: ", "))") }
        let predicted = written.slices.isEmpty ? nil
            : try cv.score(try SliceSet.read(predDir, size: options.classifierSize), named: "predicted-masks", of: cohort.patients,
                           assignment: result.assignment, directory: dir.appendingPathComponent("cv"), backend: backend)

        let fold1 = dir.appendingPathComponent("cv/fold1/classifier.safetensors")
        let loaded = try ClassifierWeights.load(fold1, backend: backend)
        let classifier = (model: loaded.model, size: loaded.size, slicing: try ClassifierWeights.slicing(fold1))
        var reports: [URL] = []
        for ct in heldOutCTs {
            let name = NIfTI.stem(ct.lastPathComponent) ?? ct.lastPathComponent
            let out = dir.appendingPathComponent("reports").appendingPathComponent(name)
            let r = try CaseReport.run(ct: ct, segmenter: segmenter, classifier: classifier.model, size: classifier.size, backend: backend,
                                       slicing: classifier.slicing, into: out)
            say("\(name): \(r.summary) → \(out.path)")
            reports.append(out)
        }
        var json: [String: Any] = ["patients": cohort.patients.count, "folds": options.folds, "size": options.classifierSize,
                                   "epochs": options.classifierEpochs, "segmentation_tumor_dice_on_this_cohort": tumourDice,
                                   "ground_truth_masks": try Self.object(result.scores.json),
                                   "trained_on": "ground-truth-mask slices of the other folds' patients",
                                   "cv": dir.appendingPathComponent("cv").path]
        json["predicted_masks"] = try predicted.map { try Self.object($0.json) } ?? ["not_classified": written.missing]
        return Outcome(groundTruth: result.scores, predicted: predicted, tumourDice: tumourDice, reports: reports, reportClassifier: classifier,
                       json: json, table: table(patients: cohort.patients.count, gt: result.scores, predicted: predicted))
    }

    /// The terminal table: patient-level CV from each kind of mask.
    func table(patients: Int, gt: CrossValidation.Scores, predicted: CrossValidation.Scores?) -> String {
        func ci(_ e: Estimate) -> String { String(format: "%.3f (%.3f–%.3f)", e.value, e.low, e.high) }
        func row(_ name: String, _ s: CrossValidation.Scores) -> String {
            "| \(name) | \(s.predictions.count)/\(patients) | \(ci(s.estimates.accuracy)) | \(ci(s.estimates.macroAUC)) | \(ci(s.estimates.macroF1)) | "
                + zip(tumourClassNames, s.estimates.f1).map { String(format: "%@ %.2f", $0, $1.value) }.joined(separator: ", ") + " |"
        }
        var lines = ["tumour type, \(options.folds)-fold patient-level CV (\(options.classifierSize) px, \(options.classifierEpochs) epochs; "
                     + "trained on ground-truth-mask slices):",
                     "| slices from | patients classified | accuracy (95% CI) | macro AUC (95% CI) | macro F1 (95% CI) | F1 per class |",
                     "|---|---|---|---|---|---|", row("ground-truth masks", gt)]
        lines.append(predicted.map { row("SSL model's masks", $0) } ?? "| SSL model's masks | 0/\(patients) | no tumour in any predicted mask | | | |")
        return lines.joined(separator: "\n")
    }

    static func dice(_ a: [Bool], _ b: [Bool]) -> Double {
        var both = 0, sum = 0
        for (x, y) in zip(a, b) { if x && y { both += 1 }; sum += (x ? 1 : 0) + (y ? 1 : 0) }
        return sum == 0 ? 1 : 2 * Double(both) / Double(sum)
    }

    static func object(_ v: JSONValue) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(v.text().utf8))
    }
}
