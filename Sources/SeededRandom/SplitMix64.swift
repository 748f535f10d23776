import Foundation

/// SplitMix64: the one seeded generator behind every random choice in SwinLiver (initialisation,
/// sampling, augmentation, synthetic data, bootstrap). Small, fast, the same sequence on every platform.
public struct SplitMix64: Sendable {
    private var state: UInt64
    private var spare: Double?

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }
    /// Uniform Float in [0, 1) with 24 bits.
    public mutating func uniformFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
    /// An integer in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    public mutating func chance(_ p: Double) -> Bool { uniform() < p }

    /// Standard normal (Box–Muller, the second value kept for the next call).
    public mutating func gaussian() -> Double {
        if let s = spare { spare = nil; return s }
        let u = max(uniform(), 1e-12), v = uniform()
        let r = (-2 * log(u)).squareRoot()
        spare = r * sin(2 * .pi * v)
        return r * cos(2 * .pi * v)
    }
}
