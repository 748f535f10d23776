import AtomicFile
import Foundation
import Kernels
import Metrics

/// Patient-level stratified k-fold cross-validation of the classifier (the paper's 5 folds): fold k's model
/// trains on the other folds' patients and predicts its own; the pooled out-of-fold predictions are scored
/// with bootstrap CIs. A second slice set of the same patients (slices through the largest *predicted* tumour)
/// can be scored by the same fold models, each patient by the model that never saw it.
///
/// Files in `directory`: fold<k>/ (the trainer's files, predictions.csv, and <second>/predictions.csv), then
/// predictions.csv (with a fold column), cv.json, roc.svg, confusion.svg, and the same four under <second>/. With
/// `resume`, a fold whose predictions exist is read back and an unfinished fold continues from its checkpoint (a
/// finished fold's checkpoint is removed: its weights are in classifier.safetensors).
public struct CrossValidation {
    public var folds = 5
    public var options: ClassifierOptions
    public var replicates = 2000
    public var quiet = false

    public init(folds: Int = 5, options: ClassifierOptions, replicates: Int = 2000, quiet: Bool = false) {
        self.folds = folds; self.options = options; self.replicates = replicates; self.quiet = quiet
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
        public var assignment: [String: Int]
        public var scores: Scores
        /// The second slice set's scores, named as it was passed.
        public var second: (name: String, scores: Scores)?
    }

    public func run(patients: [PatientSlices], second: (name: String, patients: [PatientSlices])? = nil, directory: URL,
                    backend: Backend, resume: Bool, progress: (String) -> Void = { _ in }) throws -> Result {
        let fold = try SliceSet.stratifiedFolds(labels: patients.map(\.label), folds: folds, seed: options.seed)
        let secondByPatient = Dictionary((second?.patients ?? []).map { ($0.patient, $0) }, uniquingKeysWith: { a, _ in a })
        for p in patients {
            if let q = secondByPatient[p.patient], q.label != p.label {
                throw ReportError("\(second!.name): patient \(p.patient) is \(tumourClassNames[q.label]) there but \(tumourClassNames[p.label]) in the training slices")
            }
        }
        var pooled: [(PatientPrediction, Int)] = [], pooledSecond: [PatientPrediction] = [], perFold: [(String, JSONValue)] = []
        for k in 0..<folds {
            let train = patients.indices.filter { fold[$0] != k }.map { patients[$0] }
            let test = patients.indices.filter { fold[$0] == k }.map { patients[$0] }
            let dir = directory.appendingPathComponent("fold\(k + 1)")
            let csv = dir.appendingPathComponent("predictions.csv")
            let secondCSV = second.map { dir.appendingPathComponent($0.name).appendingPathComponent("predictions.csv") }
            let finished = resume && FileManager.default.fileExists(atPath: csv.path)
                && secondCSV.map { FileManager.default.fileExists(atPath: $0.path) } ?? true
            var rows: [PatientPrediction], secondRows: [PatientPrediction] = []
            if finished {
                rows = try ClassificationReport.read(csv)
                if let secondCSV { secondRows = try Self.readPossiblyEmpty(secondCSV) }
                progress("fold \(k + 1)/\(folds): finished before, predictions read from \(csv.path)")
            } else {
                let trainer = try ClassifierTrainer(options: options, directory: dir, backend: backend, quiet: quiet)
                let continuing = resume && FileManager.default.fileExists(atPath: trainer.checkpointURL.path)
                progress("fold \(k + 1)/\(folds): \(train.count) training, \(test.count) test patients\(continuing ? " (resumed)" : "")")
                try trainer.train(train, resume: continuing)
                rows = try test.map { PatientPrediction(patient: $0.patient, label: $0.label, probabilities: try trainer.predict($0)) }
                for p in test { if let q = secondByPatient[p.patient] {
                    secondRows.append(PatientPrediction(patient: q.patient, label: q.label, probabilities: try trainer.predict(q)))
                } }
                if let secondCSV {
                    try FileManager.default.createDirectory(at: secondCSV.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try ClassificationReport.csv(secondRows).writeAtomically(to: secondCSV)
                }
                try ClassificationReport.csv(rows).writeAtomically(to: csv)   // written last: the fold's "done" mark
                try? FileManager.default.removeItem(at: trainer.checkpointURL)  // only for resuming; ~390 MB at Inception-v3's size
            }
            pooled += rows.map { ($0, k + 1) }
            pooledSecond += secondRows
            let m = ClassificationReport.metrics(rows)
            perFold.append(("fold\(k + 1)", ClassificationReport.json(rows, replicates: replicates, seed: options.seed)))
            progress(String(format: "fold %d/%d: patient accuracy %.3f, macro AUC %.3f", k + 1, folds, m.accuracy, m.macroAUC))
        }
        let scores = try score(pooled.map(\.0), of: patients, in: directory, folds: pooled.map(\.1))
        let assignment = Dictionary(uniqueKeysWithValues: zip(patients.map(\.patient), fold.map { $0 + 1 }))
        try JSONValue.object([("pooled", scores.json), ("folds", .object(perFold)),
                              ("assignment", .object(patients.map { ($0.patient, .integer(assignment[$0.patient]!)) }))])
            .text().writeAtomically(to: directory.appendingPathComponent("cv.json"))
        var result = Result(assignment: assignment, scores: scores, second: nil)
        if let second {
            let dir = directory.appendingPathComponent(second.name)
            let s = try score(pooledSecond, of: patients, in: dir, folds: nil)
            try JSONValue.object([("pooled", s.json)]).text().writeAtomically(to: dir.appendingPathComponent("cv.json"))
            result.second = (second.name, s)
        }
        return result
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
        let fields = ClassificationReport.fields(rows, replicates: replicates, seed: options.seed)
        let correct = rows.filter { $0.predicted == $0.label }.count
        let json = JSONValue.object(fields + [
            ("not_classified", .array(missing.map { .string($0) })),
            ("accuracy_all_patients", .number(Double(correct) / Double(all.count))),
        ])
        return Scores(predictions: rows, notClassified: missing, metrics: m,
                      estimates: ClassificationReport.estimates(rows, replicates: replicates, seed: options.seed), json: json)
    }

    /// A fold's second-set predictions: the header alone when none of its patients had slices there.
    static func readPossiblyEmpty(_ url: URL) throws -> [PatientPrediction] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).count <= 1 ? [] : try ClassificationReport.read(url)
    }
}
