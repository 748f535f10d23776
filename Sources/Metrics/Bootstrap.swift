import Foundation

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

/// SplitMix64: small, seedable, the same sequence on every platform.
public struct SplitMix64 {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
