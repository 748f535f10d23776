import Classification
import Foundation
import Kernels
import Metrics
import Models
import Train
import Volumes

/// The demo's classification half, in `out/classification`: a cohort of its own (data/), every case segmented by the
/// SSL model (predicted-masks/), the 15 slices through the largest tumour from the ground-truth masks
/// (slices-ground-truth/) and from the predicted ones (slices-predicted/), 5-fold patient-level CV trained on the
/// ground-truth slices and scored on both (cv/, cv/predicted-masks/), and `run` reports on the segmentation cohort's
/// held-out CTs (reports/) with fold 1's classifier (those patients are in no fold).
public struct DemoClassification {
    let options: DemoOptions
    let say: (String) -> Void

    public init(options: DemoOptions, say: @escaping (String) -> Void) { self.options = options; self.say = say }

    public struct Outcome {
        public var groundTruth: CrossValidation.Scores
        /// Nil when no predicted mask held a tumour.
        public var predicted: CrossValidation.Scores?
        /// Mean tumour Dice of the SSL model's masks on the classification cohort.
        public var tumourDice: Double
        public var reports: [URL]
        public var reportClassifier: (model: InceptionV3, size: Int)
        public var json: [String: Any]
        public var table: String
    }

    public func run(segmentationWeights: URL, heldOutCTs: [URL], backend: Backend) throws -> Outcome {
        let dir = options.out.appendingPathComponent("classification")
        let data = dir.appendingPathComponent("data")
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("manifest.csv").path) {
            try SyntheticCohort.write(cases: options.classifyCases, to: data, seed: options.classifySeed,
                                      generator: SyntheticCT(inPlaneVoxels: options.classifyInPlane))
        }
        let cases = try Dataset.cases(at: data)
        say("classification cohort: \(cases.count) synthetic cases (seed \(options.classifySeed)) in \(data.path)")

        // Every case segmented by the SSL model: the classifier's input comes from these masks in the paper's pipeline.
        let segmenter = try Segmenter(weights: segmentationWeights, backend: backend)
        let masks = dir.appendingPathComponent("predicted-masks")
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        var predictedCases: [SliceExport.Case] = [], dice: [Double] = []
        for c in cases {
            guard let label = c.label else { continue }
            let s = try segmenter.segment(c.image)
            let dest = masks.appendingPathComponent(c.image.lastPathComponent)
            try NIfTI.write(s.mask, to: dest, as: .uint8, like: s.header)
            let truth = try NIfTI.read(label).volume.values
            dice.append(Self.dice(truth.map { $0.rounded() == 2 }, s.mask.values.map { $0.rounded() == 2 }))
            predictedCases.append(SliceExport.Case(patient: c.patient, image: c.image, mask: dest, type: c.tumourType?.rawValue ?? ""))
        }
        let tumourDice = dice.reduce(0, +) / Double(max(dice.count, 1))
        say(String(format: "segmented %d cases with the SSL model (tumour DSC %.3f on this cohort)", dice.count, tumourDice))

        let gtDir = dir.appendingPathComponent("slices-ground-truth"), predDir = dir.appendingPathComponent("slices-predicted")
        _ = try SliceExport.write(SliceExport.cases(of: cases), to: gtDir)
        let written = try SliceExport.write(predictedCases, to: predDir)
        if !written.missing.isEmpty { say("\(written.missing.count) predicted mask(s) without a tumour: \(written.missing.joined(separator: ", "))") }

        var o = ClassifierOptions()
        o.epochs = options.classifierEpochs; o.batchSize = options.classifierBatch; o.lr = options.classifierLR; o.seed = options.seed
        o.dropout = options.classifierDropout
        o.checkpointEvery = 1000
        let patients = try SliceSet.read(gtDir, size: options.classifierSize)
        let second = written.slices.isEmpty ? nil : (name: "predicted-masks", patients: try SliceSet.read(predDir, size: options.classifierSize))
        let cv = CrossValidation(folds: options.folds, options: o, replicates: options.replicates, quiet: options.quiet)
        let result = try cv.run(patients: patients, second: second, directory: dir.appendingPathComponent("cv"), backend: backend,
                                resume: false, progress: say)

        let classifier = try ClassifierWeights.load(dir.appendingPathComponent("cv/fold1/classifier.safetensors"), backend: backend)
        var reports: [URL] = []
        for ct in heldOutCTs {
            let name = NIfTI.stem(ct.lastPathComponent) ?? ct.lastPathComponent
            let out = dir.appendingPathComponent("reports").appendingPathComponent(name)
            let r = try CaseReport.run(ct: ct, segmenter: segmenter, classifier: classifier.model, size: classifier.size, backend: backend, into: out)
            say("\(name): \(r.summary) → \(out.path)")
            reports.append(out)
        }
        let predicted = result.second?.scores
        var json: [String: Any] = ["patients": patients.count, "folds": options.folds, "size": options.classifierSize,
                                   "epochs": options.classifierEpochs, "segmentation_tumor_dice_on_this_cohort": tumourDice,
                                   "ground_truth_masks": try Self.object(result.scores.json),
                                   "trained_on": "ground-truth-mask slices of the other folds' patients",
                                   "cv": dir.appendingPathComponent("cv").path]
        json["predicted_masks"] = try predicted.map { try Self.object($0.json) } ?? ["not_classified": written.missing]
        return Outcome(groundTruth: result.scores, predicted: predicted, tumourDice: tumourDice, reports: reports, reportClassifier: classifier,
                       json: json, table: table(patients: patients.count, gt: result.scores, predicted: predicted))
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
