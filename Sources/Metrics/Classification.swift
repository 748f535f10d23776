import Foundation

/// scikit-learn's classification metrics on class ids 0..<classes with per-class probabilities.
public struct ClassificationMetrics: Sendable, Equatable {
    public var accuracy: Double
    public var precision: [Double], recall: [Double], f1: [Double]
    public var support: [Int]
    public var macroPrecision: Double, macroRecall: Double, macroF1: Double
    /// Rows = true class, columns = predicted.
    public var confusion: [[Int]]
    /// One-vs-rest AUC per class (NaN where a class is absent or present everywhere) and their mean.
    public var auc: [Double]
    public var macroAUC: Double

    /// labels[i] ∈ 0..<classes; probs[i] has one score per class; prediction = first argmax.
    public static func compute(labels: [Int], probs: [[Double]], classes: Int) -> ClassificationMetrics {
        let pred = probs.map { row in row.indices.max { a, b in row[a] < row[b] || (row[a] == row[b] && a > b) } ?? 0 }
        var cm = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (t, p) in zip(labels, pred) { cm[t][p] += 1 }
        let correct = (0..<classes).reduce(0) { $0 + cm[$1][$1] }
        var precision: [Double] = [], recall: [Double] = [], f1: [Double] = [], support: [Int] = []
        for k in 0..<classes {
            let tp = Double(cm[k][k])
            let predicted = Double((0..<classes).reduce(0) { $0 + cm[$1][k] })
            let actual = Double(cm[k].reduce(0, +))
            let p = predicted == 0 ? 0 : tp / predicted, r = actual == 0 ? 0 : tp / actual
            precision.append(p); recall.append(r)
            f1.append(predicted + actual == 0 ? 0 : 2 * tp / (predicted + actual))
            support.append(Int(actual))
        }
        let auc = (0..<classes).map { k in rocAUC(positive: labels.map { $0 == k }, scores: probs.map { $0[k] }) }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        return ClassificationMetrics(accuracy: labels.isEmpty ? .nan : Double(correct) / Double(labels.count),
                                     precision: precision, recall: recall, f1: f1, support: support,
                                     macroPrecision: mean(precision), macroRecall: mean(recall), macroF1: mean(f1),
                                     confusion: cm, auc: auc, macroAUC: mean(auc))
    }
}

/// A ROC curve as sklearn's `roc_curve`: thresholds descending, the first +∞.
public struct ROCCurve: Sendable, Equatable {
    public var fpr: [Double], tpr: [Double], thresholds: [Double]
}

/// Cumulative (false positives, true positives, threshold) at each distinct score, highest first.
private func cumulativeCounts(positive: [Bool], scores: [Double]) -> (fps: [Double], tps: [Double], thr: [Double]) {
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var fps: [Double] = [], tps: [Double] = [], thr: [Double] = []
    var fp = 0.0, tp = 0.0
    for (n, i) in order.enumerated() {
        if positive[i] { tp += 1 } else { fp += 1 }
        if n == order.count - 1 || scores[order[n + 1]] != scores[i] {
            fps.append(fp); tps.append(tp); thr.append(scores[i])
        }
    }
    return (fps, tps, thr)
}

/// sklearn roc_curve(y, scores, drop_intermediate:).
public func rocCurve(positive: [Bool], scores: [Double], dropIntermediate: Bool = true) -> ROCCurve {
    var (fps, tps, thr) = cumulativeCounts(positive: positive, scores: scores)
    if dropIntermediate && fps.count > 2 {
        var keep = [0]
        for i in 1..<(fps.count - 1) {
            let d2f = fps[i + 1] - 2 * fps[i] + fps[i - 1], d2t = tps[i + 1] - 2 * tps[i] + tps[i - 1]
            if d2f != 0 || d2t != 0 { keep.append(i) }
        }
        keep.append(fps.count - 1)
        fps = keep.map { fps[$0] }; tps = keep.map { tps[$0] }; thr = keep.map { thr[$0] }
    }
    fps.insert(0, at: 0); tps.insert(0, at: 0); thr.insert(.infinity, at: 0)
    let nf = fps.last!, nt = tps.last!
    return ROCCurve(fpr: fps.map { nf > 0 ? $0 / nf : .nan }, tpr: tps.map { nt > 0 ? $0 / nt : .nan }, thresholds: thr)
}

/// sklearn roc_auc_score for a binary problem: the trapezoidal area under the full ROC curve
/// (ties share a segment). NaN when only one class is present.
public func rocAUC(positive: [Bool], scores: [Double]) -> Double {
    let (fps, tps, _) = cumulativeCounts(positive: positive, scores: scores)
    guard let nf = fps.last, let nt = tps.last, nf > 0, nt > 0 else { return .nan }
    var area = 0.0, pf = 0.0, pt = 0.0
    for (f, t) in zip(fps, tps) {
        area += (f - pf) * (t + pt) / 2
        pf = f; pt = t
    }
    return area / (nf * nt)
}

/// TPR of a ROC curve at false-positive rate `x`: the highest TPR reached at FPR ≤ x (step curve).
func tpr(at x: Double, _ c: ROCCurve) -> Double {
    var best = 0.0
    for (f, t) in zip(c.fpr, c.tpr) where f <= x + 1e-12 { best = max(best, t) }
    return best
}

/// A percentile-bootstrap band of the ROC curve on an FPR grid (patients resampled, seeded).
public func rocBand(positive: [Bool], scores: [Double], replicates: Int = 2000, seed: UInt64 = 0, grid: Int = 50)
    -> (fpr: [Double], low: [Double], high: [Double])
{
    let xs = (0...grid).map { Double($0) / Double(grid) }
    var samples = [[Double]](repeating: [], count: xs.count)
    var rng = SplitMix64(seed: seed)
    let n = positive.count
    for _ in 0..<replicates {
        let idx = (0..<n).map { _ in Int(rng.next() % UInt64(max(n, 1))) }
        let p = idx.map { positive[$0] }
        guard p.contains(true), p.contains(false) else { continue }
        let c = rocCurve(positive: p, scores: idx.map { scores[$0] }, dropIntermediate: false)
        for (k, x) in xs.enumerated() { samples[k].append(tpr(at: x, c)) }
    }
    let sorted = samples.map { $0.sorted() }
    return (xs, sorted.map { quantile($0, 0.025) }, sorted.map { quantile($0, 0.975) })
}
