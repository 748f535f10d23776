import SeededRandom
import TrainingLoop

/// One training batch of the classifier: which slices, and the seed of their augmentation. The images are
/// made only when the batch is trained on (`SliceBatches.images(of:)`), so the batches a resumed run skips
/// cost nothing.
public struct SliceBatch: Sendable {
    public var items: [(patient: Int, slice: Int)]
    public var labels: [Int]
    let augmentationSeed: UInt64
}

/// The classifier's epochs: every slice once, minority classes topped up by drawing their slices with
/// replacement until each class has as many as the largest (slice-level random oversampling), shuffled, in
/// batches of `batchSize` (the last one smaller; a last batch of one slice joins the one before, as BatchNorm
/// cannot train on a single value per channel). Epoch e's order and batch b's augmentation depend only on
/// (seed, e, b), so a resumed run trains on exactly the batches of the uninterrupted one.
public struct SliceBatches: EpochBatches {
    public let patients: [PatientSlices]
    public let batchSize: Int
    public let seed: UInt64

    public init(patients: [PatientSlices], batchSize: Int, seed: UInt64) {
        self.patients = patients; self.batchSize = batchSize; self.seed = seed
    }

    /// Image edge in pixels (all patients share it).
    public var size: Int { patients.first?.size ?? 0 }

    /// Slices in an epoch after oversampling: classes × the largest class's slice count.
    public var slicesPerEpoch: Int {
        var byClass: [Int: Int] = [:]
        for p in patients { byClass[p.label, default: 0] += p.images.count }
        return (byClass.values.max() ?? 0) * byClass.count
    }

    public var stepsPerEpoch: Int { Self.bounds(slicesPerEpoch, batchSize: batchSize).count }

    /// The index ranges of `n` slices' training batches: `batchSize` each, a last batch of one joined to the one before.
    static func bounds(_ n: Int, batchSize: Int) -> [Range<Int>] {
        var r = stride(from: 0, to: n, by: batchSize).map { $0..<min($0 + batchSize, n) }
        if r.count > 1, r.last!.count == 1 { r.removeLast(); r[r.count - 1] = r[r.count - 1].lowerBound..<n }
        return r
    }

    /// Epoch `epoch`'s slices in training order.
    public func order(epoch: Int) -> [(patient: Int, slice: Int)] {
        var rng = SplitMix64(seed: seed ^ 0xC1A5 ^ (UInt64(epoch) &* 0x9e37_79b9_7f4a_7c15))
        var byClass: [Int: [(Int, Int)]] = [:]
        for (p, s) in patients.enumerated() { for i in s.images.indices { byClass[s.label, default: []].append((p, i)) } }
        let target = byClass.values.map(\.count).max() ?? 0
        var all: [(Int, Int)] = []
        for c in byClass.keys.sorted() {
            let pool = byClass[c]!
            all += pool
            for _ in 0..<(target - pool.count) { all.append(pool[rng.below(pool.count)]) }
        }
        for i in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(i, rng.below(i + 1)) }
        return all.map { (patient: $0.0, slice: $0.1) }
    }

    public func epoch(_ epoch: Int, _ body: (SliceBatch) throws -> Void) throws {
        let order = order(epoch: epoch)
        for (b, range) in Self.bounds(order.count, batchSize: batchSize).enumerated() {
            let items = Array(order[range])
            try body(SliceBatch(items: items, labels: items.map { patients[$0.patient].label },
                                augmentationSeed: seed ^ 0xA06 ^ (UInt64(epoch) &* 0x2545_f491_4f6c_dd1d) ^ (UInt64(b) &* 0x9e37_79b9_7f4a_7c15)))
        }
    }

    public func samples(in batch: SliceBatch) -> Int { batch.items.count }

    /// The batch's augmented images, (count, 3, size, size) flattened: each slice flipped, turned and
    /// intensity-jittered (`augment`), repeated over 3 identical channels.
    public func images(of batch: SliceBatch) -> [Float] {
        var rng = SplitMix64(seed: batch.augmentationSeed)
        return ClassifierWeights.threeChannels(batch.items.map { Self.augment(patients[$0.patient].images[$0.slice], size: size, rng: &rng) })
    }

    /// A training image: random flips, 90° turns and ±10 % intensity scale / shift.
    static func augment(_ x: [Float], size n: Int, rng: inout SplitMix64) -> [Float] {
        let flipRows = rng.chance(0.5), flipCols = rng.chance(0.5), turn = rng.below(4)
        let scale = Float(rng.uniform(0.9, 1.1)), shift = Float(rng.uniform(-0.1, 0.1))
        var y = [Float](repeating: 0, count: n * n)
        for r in 0..<n { for c in 0..<n {
            var (a, b) = (flipRows ? n - 1 - r : r, flipCols ? n - 1 - c : c)
            for _ in 0..<turn { (a, b) = (b, n - 1 - a) }
            y[r * n + c] = x[a * n + b] * scale + shift
        } }
        return y
    }
}
