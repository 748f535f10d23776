import Foundation
@_exported import SeededRandom

/// A point estimate with its percentile-bootstrap 95% interval.
public struct Estimate: Sendable, Equatable {
    public var value: Double
    public var low: Double
    public var high: Double
}

/// Percentile bootstrap over patients (resampled with replacement, `replicates` times, seeded):
/// `statistic` gets the resampled indices and returns one or more values (NaN where undefined in a
/// replicate, e.g. an AUC whose class is absent; those replicates are left out for that value).
public func bootstrap(count: Int, replicates: Int = 2000, seed: UInt64 = 0, confidence: Double = 0.95,
                      _ statistic: ([Int]) -> [Double]) -> [Estimate] {
    let point = statistic(Array(0..<count))
    var samples = [[Double]](repeating: [], count: point.count)
    var rng = SplitMix64(seed: seed)
    for _ in 0..<replicates {
        let idx = (0..<count).map { _ in Int(rng.next() % UInt64(max(count, 1))) }
        for (k, v) in statistic(idx).enumerated() where !v.isNaN { samples[k].append(v) }
    }
    let alpha = (1 - confidence) / 2
    return point.enumerated().map { k, v in
        let s = samples[k].sorted()
        return Estimate(value: v, low: quantile(s, alpha), high: quantile(s, 1 - alpha))
    }
}
