import AtomicFile
import Foundation
import Kernels
import Metrics

/// Patient-level stratified k-fold cross-validation of the classifier (the paper's 5 folds): fold k's model
/// trains on the other folds' patients and predicts its own; the pooled out-of-fold predictions are scored
/// with bootstrap CIs. A second slice set of the same patients (slices through the largest *predicted* tumour)
/// can be scored afterwards by the same fold models, each patient by the model that never saw it.
///
/// Files in `directory`: fold<k>/ (the trainer's files and predictions.csv), then predictions.csv (with a fold column),
/// cv.json, roc.svg, confusion.svg, and the same four under <name>/ for a second set scored afterwards. With
/// `resume`, a fold whose predictions exist is read back and an unfinished fold continues from its checkpoint (a
/// finished fold's checkpoint is removed: its weights are in classifier.safetensors).
public struct CrossValidation {
    public var folds = 5
    public var options: ClassifierOptions
    public var replicates = 2000
    public var quiet = false
    /// Prefix of each fold's progress lines (several runs side by side); nil: a progress bar.
    public var label: String?
    /// Each fold's trainer checkpoints at every epoch's end (`ClassifierTrainer.checkpointEachEpoch`).
    public var checkpointEachEpoch = true
    /// How the slices were cut (`SliceSettings.read(folder:)`): recorded in each fold's classifier.
    public var slicing = SliceSettings()

    public init(folds: Int = 5, options: ClassifierOptions, replicates: Int = 2000, quiet: Bool = false, label: String? = nil) {
        self.folds = folds; self.options = options; self.replicates = replicates; self.quiet = quiet; self.label = label
    }

    /// Scored predictions of one slice set.
    public struct Scores {
        public var predictions: [PatientPrediction]
        /// Patients of the first set missing from this one (no tumour found in their predicted mask).
        public var notClassified: [String]
        public var metrics: ClassificationMetrics
        public var estimates: ClassificationReport.Estimates
        public var json: JSONValue
    }

    public struct Result {
        /// Each patient's fold (1-based).
        public var assignment: [String: Int]
        public var scores: Scores
    }

    /// Trains the folds (or, with `resume`, continues them) and scores the pooled out-of-fold predictions.
    public func run(patients: [PatientSlices], directory: URL, backend: Backend, resume: Bool,
                    progress: (String) -> Void = { _ in }) throws -> Result {
        let fold = try SliceSet.stratifiedFolds(labels: patients.map(\.label), folds: folds, seed: options.seed)
        var pooled: [(PatientPrediction, Int)] = [], perFold: [(String, JSONValue)] = []
        for k in 0..<folds {
            let train = patients.indices.filter { fold[$0] != k }.map { patients[$0] }
            let test = patients.indices.filter { fold[$0] == k }.map { patients[$0] }
            let dir = directory.appendingPathComponent("fold\(k + 1)")
            let csv = dir.appendingPathComponent("predictions.csv")
            var rows: [PatientPrediction]
            if resume && FileManager.default.fileExists(atPath: csv.path) {
                rows = try ClassificationReport.read(csv)
                progress("fold \(k + 1)/\(folds): finished before, predictions read from \(csv.path)")
            } else {
                let trainer = try ClassifierTrainer(options: options, directory: dir, backend: backend, quiet: quiet,
                                                    label: label.map { "\($0) fold \(k + 1)" })
                trainer.checkpointEachEpoch = checkpointEachEpoch
                trainer.slicing = slicing
                let continuing = resume && FileManager.default.fileExists(atPath: trainer.checkpointURL.path)
                progress("fold \(k + 1)/\(folds): \(train.count) training, \(test.count) test patients\(continuing ? " (resumed)" : "")")
                try trainer.train(train, resume: continuing)
                rows = try test.map { PatientPrediction(patient: $0.patient, label: $0.label, probabilities: try trainer.predict($0)) }
                try ClassificationReport.csv(rows).writeAtomically(to: csv)   // the fold's "done" mark
                try? FileManager.default.removeItem(at: trainer.checkpointURL)  // only for resuming; ~390 MB at Inception-v3's size
            }
            pooled += rows.map { ($0, k + 1) }
            let m = ClassificationReport.metrics(rows)
            perFold.append(("fold\(k + 1)", ClassificationReport.json(rows, replicates: replicates, seed: options.seed)))
            progress(String(format: "fold %d/%d: patient accuracy %.3f, macro AUC %.3f", k + 1, folds, m.accuracy, m.macroAUC))
        }
        let scores = try score(pooled.map(\.0), of: patients, in: directory, folds: pooled.map(\.1))
        let assignment = Dictionary(uniqueKeysWithValues: zip(patients.map(\.patient), fold.map { $0 + 1 }))
        try JSONValue.object([("pooled", scores.json), ("folds", .object(perFold)),
                              ("assignment", .object(patients.map { ($0.patient, .integer(assignment[$0.patient]!)) }))])
            .text().writeAtomically(to: directory.appendingPathComponent("cv.json"))
        return Result(assignment: assignment, scores: scores)
    }

    /// Scores another slice set of the cross-validated patients (slices through the largest *predicted* tumour) with
    /// the fold models `run` left in `directory`: each patient by the model of the fold that held it out. Writes
    /// `<name>/predictions.csv`, `cv.json`, `roc.svg`, `confusion.svg`; patients of `patients` missing from `second`
    /// (no tumour in their predicted mask) are listed as not classified.
    public func score(_ second: [PatientSlices], named name: String, of patients: [PatientSlices], assignment: [String: Int],
                      directory: URL, backend: Backend) throws -> Scores {
        try Self.checkSecondSet(second, named: name, of: patients)
        if let q = second.first(where: { assignment[$0.patient] == nil }) {
            throw ReportError("\(name): patient \(q.patient) was not cross-validated")
        }
        var rows: [PatientPrediction] = []
        for k in 1...folds {
            let held = second.filter { assignment[$0.patient] == k }
            guard !held.isEmpty else { continue }
            let weights = directory.appendingPathComponent("fold\(k)/classifier.safetensors")
            let (model, size) = try ClassifierWeights.load(weights, backend: backend)
            guard held.allSatisfy({ $0.size == size }) else {
                throw ReportError("\(name): slices are not \(size) × \(size) as \(weights.path) was trained on")
            }
            for q in held {
                let probabilities = try ClassifierWeights.predict(model, backend: backend, images: q.images, size: size, batch: options.batchSize)
                rows.append(PatientPrediction(patient: q.patient, label: q.label, probabilities: probabilities))
            }
        }
        let dir = directory.appendingPathComponent(name)
        let s = try score(rows, of: patients, in: dir, folds: nil)
        try JSONValue.object([("pooled", s.json)]).text().writeAtomically(to: dir.appendingPathComponent("cv.json"))
        return s
    }

    /// A second slice set must hold patients of the first with the same tumour types (some may be missing): checked
    /// before the folds train, so a wrong folder fails at once.
    public static func checkSecondSet(_ second: [PatientSlices], named name: String, of patients: [PatientSlices]) throws {
        let byPatient = Dictionary(patients.map { ($0.patient, $0) }, uniquingKeysWith: { a, _ in a })
        for q in second {
            guard let p = byPatient[q.patient] else {
                throw ReportError("\(name): patient \(q.patient) is not among the \(patients.count) patients cross-validated")
            }
            guard q.label == p.label else {
                throw ReportError("\(name): patient \(q.patient) is \(tumourClassNames[q.label]) there but \(tumourClassNames[p.label]) in the training slices")
            }
        }
    }

    /// Writes predictions.csv and the plots into `dir` and returns the scores; `all` names the patients that should
    /// have a prediction (those without one are listed, and counted as wrong in `accuracy_all_patients`).
    func score(_ rows: [PatientPrediction], of all: [PatientSlices], in dir: URL, folds: [Int]?) throws -> Scores {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var csv = ClassificationReport.csv(rows)
        if let folds {
            let lines = csv.split(separator: "\n").map(String.init)
            csv = ([lines[0] + ",fold"] + zip(lines.dropFirst(), folds).map { "\($0),\($1)" }).joined(separator: "\n") + "\n"
        }
        try csv.writeAtomically(to: dir.appendingPathComponent("predictions.csv"))
        let have = Set(rows.map(\.patient))
        let missing = all.map(\.patient).filter { !have.contains($0) }
        guard !rows.isEmpty else {
            throw ReportError("\(dir.path): no patient could be classified (\(missing.count) without slices)")
        }
        try ClassificationReport.plots(rows, to: dir, replicates: replicates, seed: options.seed)
        let m = ClassificationReport.metrics(rows)
        let estimates = ClassificationReport.estimates(rows, replicates: replicates, seed: options.seed)
        let fields = ClassificationReport.fields(rows, estimates: estimates, replicates: replicates, seed: options.seed)
        let correct = rows.filter { $0.predicted == $0.label }.count
        let json = JSONValue.object(fields + [
            ("not_classified", .array(missing.map { .string($0) })),
            ("accuracy_all_patients", .number(Double(correct) / Double(all.count))),
        ])
        return Scores(predictions: rows, notClassified: missing, metrics: m,
                      estimates: estimates, json: json)
    }
}
