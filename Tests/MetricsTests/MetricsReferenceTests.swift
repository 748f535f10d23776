import Foundation
import Metrics
import SafeTensors
import TestSupport
import XCTest

/// MONAI, medpy and scikit-learn values of ../shared/reference/metrics, edge cases included.
final class MetricsReferenceTests: XCTestCase {
    func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("metrics/" + name))) as! [String: Any]
    }

    /// The fixture's numbers: a number, or the strings "NaN" / "Infinity".
    func number(_ any: Any?) -> Double? {
        if let n = any as? NSNumber { return n.doubleValue }
        switch any as? String { case "NaN": return .nan; case "Infinity": return .infinity; case "-Infinity": return -.infinity; default: return nil }
    }

    func assertEqual(_ got: Double?, _ want: Double?, _ tol: Double, _ what: String, line: UInt = #line) {
        guard let want else { return XCTAssertNil(got, "\(what): medpy raised, expected no value", line: line) }
        guard let got else { return XCTFail("\(what): no value, expected \(want)", line: line) }
        if want.isNaN { return XCTAssertTrue(got.isNaN, "\(what): \(got), expected NaN", line: line) }
        if want.isInfinite { return XCTAssertEqual(got, want, "\(what)", line: line) }
        XCTAssertEqual(got, want, accuracy: tol, what, line: line)
    }

    func testSegmentationCases() throws {
        let masks = try SafeTensorsFile(contentsOf: try Reference.file("metrics/seg_masks.safetensors"))
        let cases = try json("seg_metrics.json")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 15)
        for c in cases {
            let name = c["name"] as! String
            let shape = c["shape"] as! [Int], spacing = c["spacing"] as! [Double]
            let gt = try masks.floats("\(name).gt").map { $0 != 0 }, pred = try masks.floats("\(name).pred").map { $0 != 0 }
            let m = try SegmentationMetrics.compute(gt: gt, pred: pred, shape: shape, spacing: spacing)
            let v = c["metrics"] as! [String: [String: Any]]
            func want(_ key: String) -> Double? { number(v[key]?["value"]) }
            assertEqual(m.dice, want("monai.compute_dice"), 1e-6, "\(name) dice")
            assertEqual(m.iou, want("monai.compute_iou"), 1e-6, "\(name) iou")
            assertEqual(m.diceIgnoreEmptyFalse, want("monai.compute_dice(ignore_empty=False)"), 1e-6, "\(name) dice ignore_empty=False")
            assertEqual(m.iouIgnoreEmptyFalse, want("monai.compute_iou(ignore_empty=False)"), 1e-6, "\(name) iou ignore_empty=False")
            assertEqual(m.hd95, want("monai.compute_hausdorff_distance(percentile=95)"), 1e-4, "\(name) hd95")
            assertEqual(m.hd95Directed, want("monai.compute_hausdorff_distance(percentile=95, directed=True)"), 1e-4, "\(name) hd95 directed")
            assertEqual(m.hd, want("monai.compute_hausdorff_distance(percentile=None)"), 1e-4, "\(name) hd")
            assertEqual(m.assd, want("monai.compute_average_surface_distance(symmetric=True)"), 1e-4, "\(name) assd")
            assertEqual(m.asd, want("monai.compute_average_surface_distance(symmetric=False)"), 1e-4, "\(name) asd")
            assertEqual(m.medpyHD95, v["medpy.hd95"]?["value"] == nil ? nil : want("medpy.hd95"), 1e-4, "\(name) medpy hd95")
        }
    }

    func testClassificationCases() throws {
        let cases = try json("cls_metrics.json")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let labels = c["labels"] as! [Int], probs = (c["probs"] as! [[Double]]).map { $0.map { Double(Float($0)) } }
            let m = ClassificationMetrics.compute(labels: labels, probs: probs, classes: 3)
            let k = c["case"] as! Int
            XCTAssertEqual(m.accuracy, c["accuracy_score"] as! Double, accuracy: 1e-12, "case \(k)")
            let per = c["per_class"] as! [String: Any], macro = c["macro"] as! [String: Double]
            for (got, key) in [(m.precision, "precision"), (m.recall, "recall"), (m.f1, "f1")] {
                XCTAssertEqual(got.count, (per[key] as! [Double]).count, "case \(k) \(key)")
                for (a, b) in zip(got, per[key] as! [Double]) { XCTAssertEqual(a, b, accuracy: 1e-12, "case \(k) \(key)") }
            }
            XCTAssertEqual(m.support, per["support"] as! [Int])
            XCTAssertEqual(m.macroPrecision, macro["precision"]!, accuracy: 1e-12)
            XCTAssertEqual(m.macroRecall, macro["recall"]!, accuracy: 1e-12)
            XCTAssertEqual(m.macroF1, macro["f1"]!, accuracy: 1e-12)
            XCTAssertEqual(m.confusion, c["confusion_matrix"] as! [[Int]])
            XCTAssertEqual(m.macroAUC, c["roc_auc_ovr_macro"] as! Double, accuracy: 1e-9, "case \(k) macro AUC")
            XCTAssertEqual(m.auc.count, (c["roc_auc_per_class_ovr"] as! [Double]).count)
            for (a, b) in zip(m.auc, c["roc_auc_per_class_ovr"] as! [Double]) { XCTAssertEqual(a, b, accuracy: 1e-9, "case \(k) AUC") }
            for curve in c["roc_curve"] as! [[String: Any]] {
                let cls = curve["class"] as! Int
                let r = rocCurve(positive: labels.map { $0 == cls }, scores: probs.map { $0[cls] })
                XCTAssertEqual(r.fpr.count, (curve["fpr"] as! [Double]).count, "case \(k) class \(cls) roc points")
                for (a, b) in zip(r.fpr, curve["fpr"] as! [Double]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
                XCTAssertEqual(r.tpr.count, (curve["tpr"] as! [Double]).count)
                XCTAssertEqual(r.thresholds.count, (curve["thresholds"] as! [Any]).count)
                for (a, b) in zip(r.tpr, curve["tpr"] as! [Double]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
                for (a, b) in zip(r.thresholds, (curve["thresholds"] as! [Any]).map { number($0)! }) {
                    XCTAssertEqual(a, b, accuracy: 1e-7, "threshold")
                }
                if let all = curve["all_points"] as? [String: Any] {
                    let full = rocCurve(positive: labels.map { $0 == cls }, scores: probs.map { $0[cls] }, dropIntermediate: false)
                    XCTAssertEqual(full.fpr.count, (all["fpr"] as! [Double]).count)
                }
            }
        }
    }

    func testBootstrapIsSeededAndBracketsThePointEstimate() {
        let labels = (0..<60).map { $0 % 3 }
        let probs = labels.enumerated().map { i, l in (0..<3).map { $0 == l ? 0.5 + Double(i % 7) / 20 : 0.2 } }
        func stat(_ idx: [Int]) -> [Double] {
            let m = ClassificationMetrics.compute(labels: idx.map { labels[$0] }, probs: idx.map { probs[$0] }, classes: 3)
            return [m.accuracy, m.macroAUC]
        }
        let a = bootstrap(count: 60, replicates: 500, seed: 3, stat), b = bootstrap(count: 60, replicates: 500, seed: 3, stat)
        XCTAssertEqual(a, b)
        for e in a { XCTAssertLessThanOrEqual(e.low, e.value); XCTAssertGreaterThanOrEqual(e.high, e.value) }
    }

    func testDistanceTransformAgainstBruteForce() {
        var rng = SplitMix64(seed: 5)
        let shape = [7, 9, 5], spacing = [0.7, 1.3, 2.5]
        let feature = (0..<(7 * 9 * 5)).map { _ in rng.next() % 17 == 0 }
        let edt = squaredDistanceTransform(feature: feature, shape: shape, spacing: spacing)
        for i in 0..<feature.count {
            let (a, b, c) = (i / 45, (i / 5) % 9, i % 5)
            var best = Double.infinity
            for j in 0..<feature.count where feature[j] {
                let (x, y, z) = (j / 45, (j / 5) % 9, j % 5)
                let d = pow(Double(a - x) * 0.7, 2) + pow(Double(b - y) * 1.3, 2) + pow(Double(c - z) * 2.5, 2)
                best = min(best, d)
            }
            XCTAssertEqual(edt[i], best, accuracy: 1e-9)
        }
    }
}
