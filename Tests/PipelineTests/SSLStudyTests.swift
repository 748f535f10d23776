import Foundation
import Kernels
import Metrics
@testable import Pipeline
import SafeTensors
import TestSupport
import Volumes
import XCTest

/// `ssl-study`: the labeled draws, the statistics and the evidence on inputs whose answers are known, and one tiny
/// study end to end (paired design, files, resume).
final class SSLStudyTests: XCTestCase {
    func pool(_ n: Int) -> [CaseEntry] {
        let types: [TumourType] = [.hcc, .icc, .crlm]
        return (0..<n).map { i in
            CaseEntry(image: URL(fileURLWithPath: "/data/case_\(i).nii.gz"), label: URL(fileURLWithPath: "/data/label_\(i).nii.gz"),
                      tumourType: types[i % 3], patient: String(format: "P%03d", i))
        }
    }

    func testLabeledSubsetsAreStratifiedSeededAndDifferBySeed() {
        let cases = pool(15)
        let a = SSLStudy.labeledSubset(cases, count: 5, seed: 0)
        XCTAssertEqual(a.count, 5)
        XCTAssertEqual(Set(a.compactMap(\.tumourType)), Set([.hcc, .icc, .crlm]), "every type among 5 of a balanced pool")
        XCTAssertEqual(a, SSLStudy.labeledSubset(cases, count: 5, seed: 0), "the same seed draws the same cases")
        let draws = Set((0..<4).map { SSLStudy.labeledSubset(cases, count: 5, seed: UInt64($0)).map(\.patient) })
        XCTAssertGreaterThan(draws.count, 1, "other seeds draw other cases")
        XCTAssertEqual(SSLStudy.labeledSubset(cases, count: 15, seed: 3), cases, "the whole pool when it asks for all")
    }

    func testRelativeChangeOverThePrefixOnly() throws {
        var a = SafeTensorsWriter(), b = SafeTensorsWriter()
        try a.add("swinViT.w", [3, 4], shape: [2]); try b.add("swinViT.w", [3.3, 4.4], shape: [2])
        try a.add("decoder.w", [1], shape: [1]); try b.add("decoder.w", [100], shape: [1])
        // An integer buffer (Swin's relative_position_index) would swamp the norm: left out.
        let index = Data([Int64](repeating: 1000, count: 4).withUnsafeBytes { Array($0) })
        try a.addRaw("swinViT.index", dtype: .I64, shape: [4], bytes: index); try b.addRaw("swinViT.index", dtype: .I64, shape: [4], bytes: index)
        let fa = try SafeTensorsFile(data: try a.encoded(), name: "a"), fb = try SafeTensorsFile(data: try b.encoded(), name: "b")
        XCTAssertEqual(try SSLStudy.relativeChange(from: fa, to: fb, prefix: "swinViT."), 0.1, accuracy: 1e-6)
        XCTAssertEqual(try SSLStudy.relativeChange(from: fa, to: fa, prefix: "swinViT."), 0)
        var c = SafeTensorsWriter()
        try c.add("swinViT.w", [1, 2, 3], shape: [3])
        let fc = try SafeTensorsFile(data: try c.encoded(), name: "c")
        XCTAssertThrowsError(try SSLStudy.relativeChange(from: fa, to: fc, prefix: "swinViT.")) { error in
            XCTAssertTrue("\(error)".contains("swinViT.w"), "\(error)")
        }
    }

    func testPretrainingCurvesAverageTheFirstAndLastTenth() throws {
        let dir = try temporaryFolder("ssl-curves")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 20 steps: the first two have flip 2, contrast 3; the last two flip 1, contrast 0.5; a message line in between.
        var lines: [String] = []
        for step in 1...20 {
            let (flip, contrast) = step <= 2 ? (2.0, 3.0) : step > 18 ? (1.0, 0.5) : (1.5, 1.5)
            lines.append("{\"step\":\(step),\"loss\":\(flip + contrast),\"flip\":\(flip),\"contrast\":\(contrast),\"inpaint\":0}")
            if step == 10 { lines.append("{\"message\":\"checkpoint written\"}") }
        }
        let log = dir.appendingPathComponent("log.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        let curves = try SSLStudy.pretrainingCurves(log, batch: 4)
        XCTAssertEqual(curves["steps"] as? Int, 20)
        let flip = try XCTUnwrap(curves["flip"] as? [String: Any]), contrast = try XCTUnwrap(curves["contrast"] as? [String: Any])
        XCTAssertEqual(flip["first"] as? Double, 2); XCTAssertEqual(flip["last"] as? Double, 1)
        XCTAssertEqual(contrast["first"] as? Double, 3); XCTAssertEqual(contrast["last"] as? Double, 0.5)
        XCTAssertEqual(try XCTUnwrap(flip["chance"] as? Double), Foundation.log(4.0), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(contrast["chance"] as? Double), Foundation.log(7.0), accuracy: 1e-12, "8 views: 1 positive among 7 others")
    }

    func testComparisonIsPairedOverSeedsAndCases() {
        let cases = ["a", "b", "c", "d"]
        let baseline = [SSLStudy.Scores(cases: cases, liverDice: [0.9, 0.9, 0.9, 0.9], tumorDice: [0.5, 0.4, .nan, 0.6]),
                        SSLStudy.Scores(cases: cases, liverDice: [0.8, 0.8, 0.8, 0.8], tumorDice: [0.3, 0.2, 0.1, 0.5])]
        let ssl = [SSLStudy.Scores(cases: cases, liverDice: [0.9, 0.9, 0.9, 0.9], tumorDice: [0.6, 0.4, 0.2, 0.5]),
                   SSLStudy.Scores(cases: cases, liverDice: [0.85, 0.85, 0.85, 0.85], tumorDice: [0.4, 0.3, 0.2, 0.5])]
        let e = SSLStudy.compare(baseline: baseline, ssl: ssl, replicates: 500)
        XCTAssertEqual(e.liver.baseline.value, 0.85, accuracy: 1e-12)
        XCTAssertEqual(e.liver.ssl.value, 0.875, accuracy: 1e-12)
        XCTAssertEqual(e.liver.difference.value, 0.025, accuracy: 1e-12)
        XCTAssertEqual(e.tumor.baseline.value, (0.5 + 0.4 + 0.6 + 0.3 + 0.2 + 0.1 + 0.5) / 7, accuracy: 1e-12, "NaN left out")
        // Differences where both are finite: 0.1, 0, −0.1, 0.1, 0.1, 0.1, 0 → mean 0.3 / 7.
        XCTAssertEqual(e.tumor.difference.value, 0.3 / 7, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(e.tumor.difference.low, e.tumor.difference.value)
        XCTAssertGreaterThanOrEqual(e.tumor.difference.high, e.tumor.difference.value)
        XCTAssertEqual(e.sslBetterTumor, 4, "(seed, case) pairs where SSL's tumour DSC is higher")
        XCTAssertEqual(e.cases, 8)
    }

    /// The probe's classifier: a feature that carries the label gives AUC 1 on held-out rows, features unrelated to it
    /// about 0.5; the solver solves.
    func testProbeClassifierSeparatesWhatIsSeparable() {
        var rng = SplitMix64(seed: 4)
        func rows(_ n: Int, informative: Bool) -> ([[Double]], [Bool]) {
            var x: [[Double]] = [], y: [Bool] = []
            for _ in 0..<n {
                let label = rng.chance(0.3)
                x.append([rng.gaussian() * 5, (informative && label ? 3 : 0) + rng.gaussian() * 0.5, rng.gaussian() + 100])
                y.append(label)
            }
            return (x, y)
        }
        for (informative, low, high) in [(true, 0.99, 1.0), (false, 0.4, 0.6)] {
            let (xa, ya) = rows(600, informative: informative), (xb, yb) = rows(600, informative: informative)
            let model = EncoderProbe.fit(xa, ya, ridge: 1e-2)
            let auc = rocAUC(positive: yb, scores: xb.map { EncoderProbe.score($0, model) })
            XCTAssertTrue((low...high).contains(auc), "informative \(informative): AUC \(auc)")
        }
        let w = EncoderProbe.solve([[4, 1, 0], [1, 3, 1], [0, 1, 2]], [6, 10, 8])
        for (a, b) in zip(w, [1.0, 2, 3]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    /// The smallest study that does everything: one seed, 3 unlabeled volumes (the real-scan folder missing), 2 labeled, 2 held out.
    func testTinyStudyEndToEndAndResume() throws {
        let dir = try temporaryFolder("ssl-study")
        defer { try? FileManager.default.removeItem(at: dir) }
        var o = SSLStudyOptions()
        o.out = dir; o.seeds = [7]; o.unlabeled = 3; o.labeled = 2; o.pool = 3; o.test = 2; o.real = dir.appendingPathComponent("no-such-folder")
        o.inPlane = (64, 52); o.pretrainEpochs = 1; o.pretrainBatch = 2; o.epochs = 1; o.batch = 2; o.replicates = 50; o.quiet = true
        var said: [String] = []
        let study = SSLStudy(options: o, makeBackend: { CPUBackend() }, sideBySide: false, say: { said.append($0) })
        let json = try study.run()
        XCTAssertTrue(said.contains { $0.contains("not in") && $0.contains("no-such-folder") }, "a missing real folder is reported: \(said)")

        let seed = dir.appendingPathComponent("seed7")
        let splits = try ["baseline", "ssl"].map { v in
            try JSONDecoder().decode(Split.self, from: Data(contentsOf: seed.appendingPathComponent("\(v)/split.json")))
        }
        XCTAssertEqual(splits[0], splits[1], "both variants train on the same cases and are scored on the same ones")
        XCTAssertEqual(splits[0].trainPatients.count, 2); XCTAssertEqual(splits[0].validationPatients.count, 2)
        func options(_ v: String) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: seed.appendingPathComponent("\(v)/options.json"))) as? [String: Any])
        }
        XCTAssertEqual(try options("ssl")["initEncoder"] as? String, seed.appendingPathComponent("pretrain/encoder.safetensors").path)
        XCTAssertNil(try options("baseline")["initEncoder"], "the baseline starts from scratch")

        let seeds = try XCTUnwrap(json["seeds"] as? [[String: Any]])
        XCTAssertEqual(seeds.count, 1)
        let ssl = try XCTUnwrap(seeds[0]["ssl"] as? [String: Any]), baseline = try XCTUnwrap(seeds[0]["baseline"] as? [String: Any])
        for v in [ssl, baseline] {
            let change = try XCTUnwrap(v["encoder_change"] as? Double)
            // Measured from where each fine-tune started (the pretrained encoder for SSL): two unrelated random
            // initialisations would be about √2 apart, so < 1 also shows the SSL run loaded the pretrained encoder.
            XCTAssertTrue(change > 0 && change < 1, "fine-tuning moved the encoder a little: \(change)")
            XCTAssertEqual((v["per_case"] as? [String: Any])?.count, 2)
        }
        // The probe: 5 labeled cases × 4 crops × (64/8 · 32/8 · 32/8) tokens each, fitted on the pool (3), scored on the test (2).
        let probe = try XCTUnwrap(seeds[0]["linear_probe"] as? [String: Any])
        for encoder in ["random_init", "pretrained"] {
            let p = try XCTUnwrap(probe[encoder] as? [String: Any])
            XCTAssertEqual(p["train_tokens"] as? Int, 3 * 4 * 128); XCTAssertEqual(p["test_tokens"] as? Int, 2 * 4 * 128)
            let positives = try XCTUnwrap(p["test_tumour_tokens"] as? Int)
            XCTAssertTrue(positives > 0 && positives < 2 * 4 * 128, "crops drawn around tumours hold tumour and other tokens: \(positives)")
        }
        // The numbers in the JSON are the scores (a per-case value, an interval around its estimate).
        let scores = try JSONDecoder().decode(SSLStudy.Scores.self, from: Data(contentsOf: seed.appendingPathComponent("ssl/scores.json")))
        let perCase = try XCTUnwrap((ssl["per_case"] as? [String: Any])?[scores.cases[0]] as? [String: Any])
        XCTAssertEqual(perCase["liver_dice"] as? Double, scores.liverDice[0])
        let tumour = try XCTUnwrap((json["estimates"] as? [String: Any])?["tumor_dice"] as? [String: Any])
        for v in ["baseline", "ssl", "ssl_minus_baseline"] {
            let e = try XCTUnwrap(tumour[v] as? [String: Any]), ci = try XCTUnwrap(e["ci95"] as? [Double]), value = try XCTUnwrap(e["value"] as? Double)
            XCTAssertTrue(ci[0] <= value && value <= ci[1], "\(v): \(value) outside \(ci)")
        }
        let pretraining = try XCTUnwrap(seeds[0]["pretraining"] as? [String: Any])
        XCTAssertEqual(pretraining["steps"] as? Int, 3, "3 volumes × 2 samples in batches of 2")
        XCTAssertNotNil(pretraining["flip"]); XCTAssertNotNil(pretraining["contrast"]); XCTAssertNotNil(pretraining["inpaint"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("study.md").path))

        // A rerun keeps the finished pretraining and fine-tunes (their weights are not rewritten) and gives the same numbers.
        let weights = seed.appendingPathComponent("ssl/final.safetensors")
        let before = try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date
        let again = try SSLStudy(options: o, makeBackend: { CPUBackend() }, sideBySide: false, say: { _ in }).run()
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date, before)
        XCTAssertEqual(NSDictionary(dictionary: (again["estimates"] as? [String: Any]) ?? [:]),
                       NSDictionary(dictionary: (json["estimates"] as? [String: Any]) ?? [:]))
    }
}
