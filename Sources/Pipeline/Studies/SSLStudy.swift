import AtomicFile
import Foundation
import Kernels
import Metrics
import Models
import SafeTensors
import Train
import TrainingLoop
import Volumes

/// Self-supervised pretraining versus the supervised baseline where pretraining should matter most: many unlabeled
/// volumes, few labeled ones. For each seed: pretrain the encoder (all three proxy tasks) on the unlabeled cohort and
/// the real CTs, fine-tune from it and from scratch on the same few labeled cases (same seed, so the same decoder
/// initialisation and data order), and score both on held-out cases that are the same for every seed. Reports the
/// mean held-out DSC of each variant and their paired difference with bootstrap 95 % intervals (test cases
/// resampled, every seed kept), and the evidence that says whether pretraining did anything: each task's loss at the
/// start and end of pretraining beside its chance level, how far fine-tuning moved each encoder from where it
/// started, and a linear probe (`EncoderProbe`) of the pretrained encoder beside the random one the baseline starts
/// from. Finished variants are kept, so a stopped study continues where it stopped.
public struct SSLStudy {
    public let options: SSLStudyOptions
    public let makeBackend: () throws -> Backend
    /// Pretraining and the baseline fine-tune side by side (a CPU backend: two jobs fill two cores).
    public let sideBySide: Bool
    public let say: (String) -> Void

    public init(options: SSLStudyOptions, makeBackend: @escaping () throws -> Backend, sideBySide: Bool,
                say: @escaping (String) -> Void) {
        self.options = options; self.makeBackend = makeBackend; self.sideBySide = sideBySide; self.say = say
    }

    /// Held-out scores of one fine-tuned variant for one seed (the order of `cases` is the test set's).
    public struct Scores: Codable, Equatable {
        public var cases: [String]
        public var liverDice: [Double]
        public var tumorDice: [Double]
    }

    @discardableResult
    public func run() throws -> [String: Any] {
        let start = Date()
        let o = options
        let (unlabeled, pool, test) = try cohorts()
        say("pretraining set: \(unlabeled.count) volumes; labeled pool \(pool.count), held out \(test.count) (\(seconds(start)))")
        var perSeed: [(seed: UInt64, pretrain: [String: Any], baseline: Scores, ssl: Scores, change: (baseline: Double, ssl: Double),
                       probe: (random: EncoderProbe.Result, pretrained: EncoderProbe.Result))] = []
        for seed in o.seeds {
            let dir = o.out.appendingPathComponent("seed\(seed)")
            let chosen = Self.labeledSubset(pool, count: o.labeled, seed: seed)
            say("seed \(seed): fine-tuning on \(chosen.map(\.patient).joined(separator: ", "))")
            let baselineBackend = try sideBySide ? makeBackend() : nil
            let baselineJob = baselineBackend.map { b in
                BackgroundJob { try fineTune("baseline", train: chosen, test: test, encoder: nil, seed: seed, dir: dir, backend: b) }
            }
            let backend = try makeBackend()
            let encoder = try pretrain(unlabeled, seed: seed, dir: dir, backend: backend)
            let ssl = try fineTune("ssl", train: chosen, test: test, encoder: encoder, seed: seed, dir: dir, backend: backend)
            let baseline = try baselineJob?.wait()
                ?? fineTune("baseline", train: chosen, test: test, encoder: nil, seed: seed, dir: dir, backend: backend)
            let curves = try Self.pretrainingCurves(dir.appendingPathComponent("pretrain/log.jsonl"), batch: o.pretrainBatch)
            let change = (baseline: try encoderChange(from: try initialWeights(seed: seed), to: dir.appendingPathComponent("baseline/final.safetensors")),
                          ssl: try encoderChange(from: try SafeTensorsFile(contentsOf: encoder), to: dir.appendingPathComponent("ssl/final.safetensors")))
            let probe = try probeEncoders(encoder, seed: seed, train: pool, test: test, backend: backend)
            perSeed.append((seed, curves, baseline, ssl, change, probe))
            say(String(format: "seed %llu: tumour DSC baseline %.4f, SSL %.4f; liver %.4f / %.4f (%@)", seed, nanMean(baseline.tumorDice),
                       nanMean(ssl.tumorDice), nanMean(baseline.liverDice), nanMean(ssl.liverDice), seconds(start)))
        }
        let estimates = Self.compare(baseline: perSeed.map(\.baseline), ssl: perSeed.map(\.ssl), replicates: o.replicates)
        let json: [String: Any] = [
            "settings": o.json, "test_cases": test.map(\.name), "seconds": Date().timeIntervalSince(start),
            "seeds": perSeed.map { s in
                ["seed": Int(s.seed), "labeled": Self.labeledSubset(pool, count: o.labeled, seed: s.seed).map(\.patient),
                 "pretraining": s.pretrain,
                 "linear_probe": ["random_init": s.probe.random.json, "pretrained": s.probe.pretrained.json,
                                  "stage": EncoderProbe(roi: o.roi, spacing: o.spacing).stage,
                                  "what": "ridge classifier on frozen encoder tokens (tumour ≥ 25 % of the token's voxels); fitted on the labeled pool, AUC on the held-out cases"] as [String: Any],
                 "baseline": Self.json(s.baseline, change: s.change.baseline), "ssl": Self.json(s.ssl, change: s.change.ssl)] as [String: Any]
            },
            "estimates": estimates.json,
        ]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            .writeAtomically(to: o.out.appendingPathComponent("study.json"))
        let table = Self.table(perSeed.map { ($0.seed, $0.baseline, $0.ssl, $0.change, ($0.probe.random.auc, $0.probe.pretrained.auc)) },
                               estimates: estimates)
        try (table + "\n").writeAtomically(to: o.out.appendingPathComponent("study.md"))
        say("\n" + table)
        say("\nstudy: \(o.out.appendingPathComponent("study.json").path) (\(seconds(start)) in all)")
        return json
    }

    // MARK: data

    /// The unlabeled pretraining set (synthetic + real CTs), the labeled pool and the held-out cases.
    func cohorts() throws -> (unlabeled: [CaseEntry], pool: [CaseEntry], test: [CaseEntry]) {
        let o = options
        let unlabeledDir = o.out.appendingPathComponent("unlabeled"), labeledDir = o.out.appendingPathComponent("labeled")
        for (dir, count, seed) in [(unlabeledDir, o.unlabeled, o.cohortSeed &+ 500), (labeledDir, o.pool + o.test, o.cohortSeed &+ 600)]
        where !FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.csv").path) {
            try SyntheticCohort.write(cases: count, to: dir, seed: seed, generator: SyntheticCT(inPlaneVoxels: o.inPlane))
        }
        var unlabeled = try Dataset.cases(at: unlabeledDir)
        if let real = o.real {
            let present = SSLStudyOptions.realCTs.map { real.appendingPathComponent($0) }
                .filter { FileManager.default.fileExists(atPath: $0.path) }
            if present.count < SSLStudyOptions.realCTs.count {
                say("real scans: \(SSLStudyOptions.realCTs.count - present.count) of \(SSLStudyOptions.realCTs.joined(separator: ", ")) not in \(real.path); pretraining without them")
            }
            unlabeled += present.map { CaseEntry(image: $0, label: nil, tumourType: nil, patient: "real-" + (NIfTI.stem($0.lastPathComponent) ?? "")) }
        }
        let labeled = try Dataset.cases(at: labeledDir)
        let split = Split.make(patients: labeled.map(\.patient), strata: Split.strata(of: labeled),
                               trainFraction: Double(o.pool) / Double(o.pool + o.test), seed: o.cohortSeed)
        return (unlabeled, labeled.filter { split.trainPatients.contains($0.patient) },
                labeled.filter { split.validationPatients.contains($0.patient) })
    }

    /// `count` cases of `pool` for `seed`, stratified by tumour type (every type present where count allows).
    static func labeledSubset(_ pool: [CaseEntry], count: Int, seed: UInt64) -> [CaseEntry] {
        guard count < pool.count else { return pool }
        let s = Split.make(patients: pool.map(\.patient), strata: Split.strata(of: pool), trainFraction: Double(count) / Double(pool.count),
                           seed: seed)
        return pool.filter { s.trainPatients.contains($0.patient) }
    }

    // MARK: training

    /// Pretrains the encoder for `seed` (kept when a finished one is there); returns encoder.safetensors.
    func pretrain(_ cases: [CaseEntry], seed: UInt64, dir: URL, backend: Backend) throws -> URL {
        let o = options
        let pretrainDir = dir.appendingPathComponent("pretrain"), finished = pretrainDir.appendingPathComponent("finished")
        let encoder = pretrainDir.appendingPathComponent("encoder.safetensors")
        if FileManager.default.fileExists(atPath: finished.path) { return encoder }
        var p = PretrainOptions()
        p.featureSize = o.featureSize; p.roi = o.roi; p.batchSize = o.pretrainBatch; p.samplesPerVolume = 2; p.epochs = o.pretrainEpochs
        p.lr = o.pretrainLR; p.spacing = o.spacing; p.seed = seed; p.checkpointEvery = 200; p.projection = 128
        let pre = try Pretrainer(options: p, cases: cases, directory: pretrainDir, backend: backend, quiet: o.quiet,
                                 label: sideBySide ? "pretrain \(seed)" : nil)
        try pre.run(resume: false)
        try Data().writeAtomically(to: finished)
        return pre.encoderURL
    }

    /// Fine-tunes one variant on `train` and scores `test` (kept when its scores.json is there).
    func fineTune(_ name: String, train: [CaseEntry], test: [CaseEntry], encoder: URL?, seed: UInt64, dir: URL, backend: Backend) throws -> Scores {
        let o = options
        let runDir = dir.appendingPathComponent(name), scoresURL = runDir.appendingPathComponent("scores.json")
        if let data = try? Data(contentsOf: scoresURL) { return try JSONDecoder().decode(Scores.self, from: data) }
        var f = FineTuneOptions()
        f.featureSize = o.featureSize; f.roi = o.roi; f.batchSize = o.batch; f.samplesPerVolume = o.batch; f.epochs = o.epochs; f.lr = o.lr
        f.spacing = o.spacing; f.seed = seed; f.checkpointEvery = 1000; f.validateEvery = 0; f.initEncoder = encoder?.path
        f.classRatios = o.classRatios; f.batchDice = o.batchDice ? true : nil
        try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
        let split = Split(seed: seed, trainPatients: train.map(\.patient).sorted(), validationPatients: test.map(\.patient).sorted())
        let encoded = JSONEncoder()
        encoded.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoded.encode(split).writeAtomically(to: runDir.appendingPathComponent("split.json"))
        let tuner = try FineTuner(options: f, cases: train + test, directory: runDir, backend: backend, quiet: o.quiet,
                                  label: sideBySide ? "\(name) \(seed)" : nil)
        try tuner.run(resume: false)
        let weights = runDir.appendingPathComponent("final.safetensors")
        let result = try segmentAndScore(name: name, weights: weights, cases: test, predictions: runDir.appendingPathComponent("predictions"),
                                         backend: backend)
        let scores = Scores(cases: result.perCase.map(\.0), liverDice: result.perCase.map { $0.1[1]?.dice ?? .nan },
                            tumorDice: result.perCase.map { $0.1[2]?.dice ?? .nan })
        try encoded.encode(scores).writeAtomically(to: scoresURL)
        return scores
    }

    /// The weights the baseline's fine-tune started from: `FineTuner`'s model for this seed, before any step.
    func initialWeights(seed: UInt64) throws -> SafeTensorsFile {
        let backend = CPUBackend()
        let model = try SwinUNETR(SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: options.featureSize), backend: backend, seed: seed)
        var w = SafeTensorsWriter()
        try model.stateDict(into: &w, backend: backend)
        return try SafeTensorsFile(data: try w.encoded(), name: "the baseline's initial weights (seed \(seed))")
    }

    /// The linear probe on the seed's random initial encoder (the baseline's start) and on its pretrained encoder.
    func probeEncoders(_ encoder: URL, seed: UInt64, train: [CaseEntry], test: [CaseEntry], backend: Backend) throws
        -> (random: EncoderProbe.Result, pretrained: EncoderProbe.Result)
    {
        var probe = EncoderProbe(roi: options.roi, spacing: options.spacing)
        probe.seed = seed
        let config = SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: options.featureSize)
        let random = try SwinUNETR(config, backend: backend, seed: seed)
        let pretrained = try SwinUNETR(config, backend: backend, seed: seed)
        try FineTuner.loadEncoder(encoder, into: pretrained, backend: backend)
        return (try probe.run(encoder: random.swinViT, train: train, test: test, backend: backend),
                try probe.run(encoder: pretrained.swinViT, train: train, test: test, backend: backend))
    }

    /// How far fine-tuning moved the encoder: ‖after − before‖ / ‖before‖ over its learned tensors (`swinViT.*`).
    func encoderChange(from before: SafeTensorsFile, to weights: URL) throws -> Double {
        try Self.relativeChange(from: before, to: try SafeTensorsFile(contentsOf: weights), prefix: "swinViT.")
    }

    /// ‖b − a‖ / ‖a‖ over the float tensors whose keys start with `prefix` (those in both files; integer buffers such
    /// as Swin's relative_position_index are left out).
    static func relativeChange(from a: SafeTensorsFile, to b: SafeTensorsFile, prefix: String) throws -> Double {
        var moved = 0.0, size = 0.0
        for key in a.keys where key.hasPrefix(prefix) && b.tensors[key] != nil && a.tensors[key]?.dtype == .F32 {
            let x = try a.floats(key), y = try b.floats(key)
            guard x.count == y.count else { throw TrainingError(b.name, "\(key): \(y.count) values, the start had \(x.count)") }
            for i in x.indices { moved += Double(y[i] - x[i]) * Double(y[i] - x[i]); size += Double(x[i]) * Double(x[i]) }
        }
        return size > 0 ? (moved / size).squareRoot() : .nan
    }

    // MARK: evidence and statistics

    /// Each proxy task's mean loss over the first and the last tenth of the pretraining steps, with its chance level
    /// (flip: ln 4; contrastive: ln(2B − 1) for B sub-volumes, two views each; inpainting has none).
    static func pretrainingCurves(_ log: URL, batch: Int) throws -> [String: Any] {
        let records = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let r = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], r["step"] != nil, r["loss"] != nil
            else { return nil }
            return r
        }
        let tenth = max(1, records.count / 10)
        var out: [String: Any] = ["steps": records.count, "log": log.path]
        for (task, chance) in [("inpaint", Double.nan), ("flip", log4), ("contrast", Foundation.log(Double(2 * batch - 1)))] {
            let values = records.compactMap { ($0[task] as? NSNumber)?.doubleValue }
            guard values.count == records.count, !values.isEmpty else { continue }
            out[task] = ["first": nanMean(Array(values.prefix(tenth))), "last": nanMean(Array(values.suffix(tenth))),
                         "chance": jsonNumber(chance)] as [String: Any]
        }
        return out
    }

    static let log4 = Foundation.log(4.0)

    /// One line per task of `pretrainingCurves`: first → last tenth, and the chance level.
    static func describe(_ curves: [String: Any]) -> String {
        ["inpaint", "flip", "contrast"].compactMap { task -> String? in
            guard let c = curves[task] as? [String: Any], let first = c["first"] as? Double, let last = c["last"] as? Double else { return nil }
            let chance = (c["chance"] as? Double).map { String(format: " (chance %.3f)", $0) } ?? ""
            return String(format: "  %@ loss %.3f → %.3f%@", task, first, last, chance)
        }.joined(separator: "\n")
    }

    /// Means over seeds and test cases, and SSL − baseline, each with a bootstrap 95 % interval (test cases resampled).
    struct Estimates {
        var liver: (baseline: Estimate, ssl: Estimate, difference: Estimate)
        var tumor: (baseline: Estimate, ssl: Estimate, difference: Estimate)
        var sslBetterTumor: Int, cases: Int

        var json: [String: Any] {
            func e(_ x: Estimate) -> [String: Any] { ["value": jsonNumber(x.value), "ci95": [jsonNumber(x.low), jsonNumber(x.high)]] }
            return ["liver_dice": ["baseline": e(liver.baseline), "ssl": e(liver.ssl), "ssl_minus_baseline": e(liver.difference)],
                    "tumor_dice": ["baseline": e(tumor.baseline), "ssl": e(tumor.ssl), "ssl_minus_baseline": e(tumor.difference)],
                    "ssl_better_tumor": "\(sslBetterTumor) of \(cases) (seed, case) pairs",
                    "bootstrap": "percentile, test cases resampled with every seed kept"]
        }
    }

    static func compare(baseline: [Scores], ssl: [Scores], replicates: Int) -> Estimates {
        let cases = baseline.first?.cases.count ?? 0
        func three(_ metric: KeyPath<Scores, [Double]>) -> (Estimate, Estimate, Estimate) {
            let e = bootstrap(count: cases, replicates: replicates, seed: 0) { idx in
                let b = baseline.flatMap { s in idx.map { s[keyPath: metric][$0] } }
                let t = ssl.flatMap { s in idx.map { s[keyPath: metric][$0] } }
                return [nanMean(b), nanMean(t), nanMean(zip(t, b).map { $0 - $1 })]
            }
            return (e[0], e[1], e[2])
        }
        let pairs = zip(ssl, baseline).flatMap { zip($0.tumorDice, $1.tumorDice) }
        return Estimates(liver: three(\.liverDice), tumor: three(\.tumorDice), sslBetterTumor: pairs.filter { $0 > $1 }.count,
                         cases: pairs.count)
    }

    static func json(_ s: Scores, change: Double) -> [String: Any] {
        ["liver_dice": jsonNumber(nanMean(s.liverDice)), "tumor_dice": jsonNumber(nanMean(s.tumorDice)), "encoder_change": jsonNumber(change),
         "per_case": Dictionary(uniqueKeysWithValues: s.cases.indices.map { i in
             (s.cases[i], ["liver_dice": jsonNumber(s.liverDice[i]), "tumor_dice": jsonNumber(s.tumorDice[i])])
         })]
    }

    static func table(_ rows: [(UInt64, Scores, Scores, (baseline: Double, ssl: Double), (random: Double, pretrained: Double))],
                      estimates e: Estimates) -> String {
        var lines = ["| seed | liver DSC baseline | liver DSC SSL | tumour DSC baseline | tumour DSC SSL | encoder change baseline | encoder change SSL | probe AUC random init | probe AUC pretrained |",
                     "|---|---|---|---|---|---|---|---|---|"]
        for (seed, b, s, change, probe) in rows {
            lines.append(String(format: "| %llu | %.4f | %.4f | %.4f | %.4f | %.3f | %.3f | %.3f | %.3f |", seed, nanMean(b.liverDice),
                                nanMean(s.liverDice), nanMean(b.tumorDice), nanMean(s.tumorDice), change.baseline, change.ssl,
                                probe.random, probe.pretrained))
        }
        func ci(_ x: Estimate) -> String { String(format: "%.4f [%.4f, %.4f]", x.value, x.low, x.high) }
        lines.append("| all (95 % CI) | \(ci(e.liver.baseline)) | \(ci(e.liver.ssl)) | \(ci(e.tumor.baseline)) | \(ci(e.tumor.ssl)) | | | | |")
        lines.append("")
        lines.append("SSL − baseline: liver DSC \(ci(e.liver.difference)), tumour DSC \(ci(e.tumor.difference)); SSL better on "
                     + "\(e.sslBetterTumor) of \(e.cases) (seed, case) pairs")
        return lines.joined(separator: "\n")
    }
}

/// The mean of the finite values (NaN when there are none).
func nanMean(_ v: [Double]) -> Double {
    let f = v.filter(\.isFinite)
    return f.isEmpty ? .nan : f.reduce(0, +) / Double(f.count)
}

private func seconds(_ start: Date) -> String { String(format: "%.0f s", Date().timeIntervalSince(start)) }
