import Foundation

/// A batch on the host, ready for one upload: images (B, 1, D, H, W) and labels (B, 1, D, H, W).
public struct HostBatch: Sendable {
    public var size: [Int]
    public var count: Int
    public var images: [Float]
    public var labels: [Float]
}

/// Streams training batches: background workers preprocess (once per case, kept in memory), crop
/// (RandCropByPosNegLabel) and augment, a bounded number of cases ahead of the consumer. Case c of
/// epoch e always draws from the generator seeded by (seed, e, c), so a run is reproducible whatever the
/// thread timing. `waitedSeconds` says how long the consumer (the device) waited for data.
public final class PatchLoader: @unchecked Sendable {
    public let cases: [CaseEntry]
    public let preprocessing: Preprocessing
    public let sampler: PatchSampler
    public let augmentation: Augmentation
    public let batchSize: Int
    public let workers: Int
    public let ahead: Int
    public let seed: UInt64
    /// Where preprocessed volumes are kept between runs (nil: memory only).
    public let cache: PreprocessedCache?
    /// Drop an epoch's last, smaller batch (torch DataLoader's drop_last).
    public let dropLast: Bool

    private let lock = NSCondition()
    private var volumes: [Int: (Volume, Volume)] = [:]
    private var ready: [Int: [Patch]] = [:]
    private var nextCase = 0
    private var consumed = 0
    private var order: [Int] = []
    private var failure: Error?
    /// Seconds the consumer waited for each batch it received (the first includes filling the pipeline).
    public private(set) var batchWaits: [Double] = []
    public var waitedSeconds: Double { batchWaits.reduce(0, +) }

    public init(cases: [CaseEntry], preprocessing: Preprocessing, sampler: PatchSampler, augmentation: Augmentation,
                batchSize: Int, workers: Int = 2, ahead: Int = 4, seed: UInt64, cache: PreprocessedCache? = nil,
                labelsRequired: Bool = true, dropLast: Bool = false) throws {
        guard !cases.isEmpty else { throw DatasetError(path: "loader", problem: "no cases") }
        for c in cases where c.label == nil && labelsRequired {
            throw DatasetError(path: c.image.path, problem: "no label: needed for training")
        }
        self.cases = cases; self.preprocessing = preprocessing; self.sampler = sampler; self.augmentation = augmentation
        self.batchSize = batchSize; self.workers = max(1, workers); self.ahead = max(1, ahead); self.seed = seed
        self.cache = cache
        self.dropLast = dropLast
    }

    /// Batches per epoch when every case yields `samplesPerCase` patches.
    public func batchesPerEpoch(samplesPerCase: Int) -> Int {
        let n = cases.count * samplesPerCase
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize
    }

    /// The case order of an epoch (a seeded shuffle).
    public func epochOrder(_ epoch: Int) -> [Int] {
        var o = Array(cases.indices)
        var rng = SampleRandom(seed: seed &+ UInt64(epoch) &* 0x632b_e59b_d9b4_e019)
        for i in stride(from: o.count - 1, to: 0, by: -1) { o.swapAt(i, rng.below(i + 1)) }
        return o
    }

    /// Batches of one epoch, in order; workers run while the caller consumes.
    public func epoch(_ epoch: Int, _ body: (HostBatch) throws -> Void) throws {
        lock.lock()
        order = epochOrder(epoch); ready = [:]; nextCase = 0; consumed = 0; failure = nil
        lock.unlock()
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            Thread { [self] in work(epoch); group.leave() }.start()
        }
        defer {
            lock.lock(); consumed = Int.max / 2; lock.broadcast(); lock.unlock()   // release waiting workers
            group.wait()
        }
        var pending: [Patch] = []
        var waited = 0.0
        for position in 0..<order.count {
            let start = Date()
            lock.lock()
            while ready[position] == nil && failure == nil { lock.wait() }
            if let failure { lock.unlock(); throw failure }
            let patches = ready.removeValue(forKey: position)!
            consumed = position + 1
            lock.broadcast()
            lock.unlock()
            waited += Date().timeIntervalSince(start)
            pending += patches
            while pending.count >= batchSize {
                batchWaits.append(waited)
                waited = 0
                try body(batch(Array(pending.prefix(batchSize))))
                pending.removeFirst(batchSize)
            }
        }
        if !pending.isEmpty && !dropLast {
            batchWaits.append(waited)
            try body(batch(pending))
        }
    }

    private func batch(_ patches: [Patch]) -> HostBatch {
        HostBatch(size: sampler.roi, count: patches.count, images: patches.flatMap(\.image), labels: patches.flatMap(\.label))
    }

    private func work(_ epoch: Int) {
        while true {
            lock.lock()
            while nextCase < order.count && nextCase >= consumed + ahead { lock.wait() }
            guard nextCase < order.count, failure == nil, consumed < Int.max / 2 else { lock.unlock(); return }
            let position = nextCase
            nextCase += 1
            let c = order[position]
            let cached = volumes[c]
            lock.unlock()
            do {
                let (image, label) = try cached ?? load(c)
                var rng = SampleRandom(seed: seed ^ (UInt64(epoch) << 32) ^ UInt64(c) &* 0x9e37_79b9_7f4a_7c15)
                let patches = sampler(image: image, label: label, &rng).map { augmentation($0, &rng) }
                lock.lock()
                volumes[c] = (image, label)
                ready[position] = patches
                lock.broadcast()
                lock.unlock()
            } catch {
                lock.lock(); failure = failure ?? error; lock.broadcast(); lock.unlock()
                return
            }
        }
    }

    private func load(_ c: Int) throws -> (Volume, Volume) {
        let e = cases[c]
        if let cache { return try cache.get(image: e.image, label: e.label, preprocessing: preprocessing) { try preprocess(e) } }
        return try preprocess(e)
    }

    /// An unlabeled case (self-supervised pretraining) gets an all-background label, so crops are uniform.
    private func preprocess(_ e: CaseEntry) throws -> (Volume, Volume) {
        let (img, _) = try NIfTI.read(e.image)
        guard let labelURL = e.label else {
            let r = try preprocessing(image: img)
            return (r.image, Volume(shape: r.image.shape, values: [Float](repeating: 0, count: r.image.values.count), affine: r.image.affine))
        }
        let (lab, _) = try NIfTI.read(labelURL)
        try NIfTI.checkPair(image: img, imageFile: e.image.path, label: lab, labelFile: labelURL.path)
        try NIfTI.checkLabels(lab, file: labelURL.path)
        let r = try preprocessing(image: img, label: lab)
        return (r.image, r.label!)
    }
}
