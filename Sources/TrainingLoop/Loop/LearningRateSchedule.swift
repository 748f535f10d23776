import Foundation

/// Linear warm-up from 0 to `peak` over `warmup` steps, then cosine annealing to `floor` at `total`
/// (MONAI's LinearWarmupCosineAnnealingLR with warmup_start_lr = 0, stepped per iteration).
public struct WarmupCosine: Sendable, Equatable, Codable {
    public var peak: Double
    public var warmup: Int
    public var total: Int
    public var floor: Double = 0

    public init(peak: Double, warmup: Int, total: Int, floor: Double = 0) {
        self.peak = peak; self.warmup = warmup; self.total = max(total, 1); self.floor = floor
    }

    /// The rate for step `step` (0-based: the rate used by the step-th update).
    public func rate(at step: Int) -> Double {
        if step < warmup { return peak * Double(step + 1) / Double(warmup + 1) }
        let t = Double(step - warmup) / Double(max(total - warmup, 1))
        return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * min(t, 1)))
    }
}
