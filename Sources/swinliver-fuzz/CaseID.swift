import SeededRandom

/// A case's identity: the run seed and the case's index. The same id gives the same files and the same
/// command line on every machine; written "seed:index" (e.g. `7:1234`).
struct CaseID: Hashable, Comparable, CustomStringConvertible, Sendable {
    var seed: UInt64
    var index: Int

    init(seed: UInt64, index: Int) { self.seed = seed; self.index = index }

    /// Parses "seed:index".
    init?(_ text: Substring) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let s = UInt64(parts[0]), let i = Int(parts[1]), i >= 0 else { return nil }
        seed = s; index = i
    }

    var description: String { "\(seed):\(index)" }

    /// The case's own generator (independent of every other case's).
    var rng: SplitMix64 {
        var mix = SplitMix64(seed: seed ^ 0x5157_4c46_757a_7a21)
        let a = mix.next()
        return SplitMix64(seed: a ^ (UInt64(index) &* 0xd1b5_4a32_d192_ed03))
    }

    static func < (a: CaseID, b: CaseID) -> Bool { (a.seed, a.index) < (b.seed, b.index) }
}
