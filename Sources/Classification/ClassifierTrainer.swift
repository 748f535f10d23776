import Autograd
import Foundation
import Kernels
import Models
import SafeTensors
import SeededRandom
import Train

/// How the tumour-type classifier is trained (defaults: the paper's recipe).
public struct ClassifierOptions: Codable, Equatable, Sendable {
    public var epochs = 80
    public var batchSize = 16
    public var lr = 1e-4
    public var weightDecay = 1e-5
    public var warmupFraction = 0.05
    public var labelSmoothing: Float = 0.1
    /// Stochastic weight averaging over the epochs from this fraction on (1 = off).
    public var swaStart = 0.75
    public var auxLogits = false
    public var dropout: Float = 0.5
    public var seed: UInt64 = 0
    /// ImageNet weights exported from torchvision (`fc` and `AuxLogits.fc` are not loaded: their shapes differ).
    public var pretrained: String?
    public init() {}
}

/// Inception-v3 with the paper's head, trained on slices: AdamW, warm-up + cosine, cross-entropy with
/// label smoothing, slice-level random oversampling of minority classes, flips / 90° turns / intensity
/// jitter, stochastic weight averaging with BatchNorm statistics recomputed afterwards. Patient-level
/// prediction = the mean of the slice probabilities.
public final class ClassifierTrainer {
    public let options: ClassifierOptions
    public let backend: Backend
    public let model: InceptionV3
    public private(set) var losses: [Float] = []

    public init(options: ClassifierOptions, backend: Backend) throws {
        self.options = options
        self.backend = backend
        model = try InceptionV3(classes: tumourClassNames.count, auxLogits: options.auxLogits, head: .mlp(dropout: options.dropout),
                                backend: backend, seed: options.seed)
        if let p = options.pretrained {
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: p))
            let head = Set(file.keys.filter { $0.hasPrefix("fc.") || $0.hasPrefix("AuxLogits.fc.") })
            for (name, child) in model.children where name != "fc" && !(name == "AuxLogits" && !options.auxLogits) {
                if name == "AuxLogits", let aux = child as? InceptionAux {
                    for (n, c) in aux.children where n != "fc" { try c.load(from: file, prefix: "AuxLogits.\(n).", backend: backend) }
                } else {
                    try child.load(from: file, prefix: name + ".", ignoring: head, backend: backend)
                }
            }
        }
    }

    /// The slices of one epoch: every slice once, minority classes topped up by drawing their slices
    /// with replacement until each class has as many as the largest; then shuffled.
    public static func epochSlices(_ patients: [PatientSlices], rng: inout SplitMix64) -> [(patient: Int, slice: Int)] {
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

    /// A training image: random flips, 90° turns and ±10 % intensity scale / shift, as 3 identical channels.
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

    func batchTensor(_ images: [[Float]], size: Int) throws -> Tensor {
        var flat: [Float] = []
        flat.reserveCapacity(images.count * 3 * size * size)
        for im in images { for _ in 0..<3 { flat += im } }
        return try backend.upload(flat, shape: Shape(images.count, 3, size, size), name: "slice batch")
    }

    /// Trains on `patients`; `log` receives (epoch, step, loss).
    public func train(_ patients: [PatientSlices], maxSteps: Int? = nil, log: ((Int, Int, Float) -> Void)? = nil) throws {
        guard let size = patients.first?.size else { throw SliceError(problem: "no training patients") }
        var rng = SplitMix64(seed: options.seed ^ 0xC1A5)
        let perEpoch = (Self.epochSlices(patients, rng: &rng).count + options.batchSize - 1) / options.batchSize
        let total = options.epochs * perEpoch
        let schedule = WarmupCosine(peak: options.lr, warmup: Int(Double(total) * options.warmupFraction), total: total)
        let optimizer = AdamW(hyper: AdamWHyper(lr: Float(options.lr), weightDecay: Float(options.weightDecay)), backend: backend)
        let swaFrom = Int((Double(options.epochs) * options.swaStart).rounded(.down))
        var swa: [String: Tensor] = [:], averaged = 0
        var step = 0
        model.training = true
        epochs: for epoch in 0..<options.epochs {
            let order = Self.epochSlices(patients, rng: &rng)
            for start in stride(from: 0, to: order.count, by: options.batchSize) {
                if let maxSteps, step >= maxSteps { break epochs }
                let items = order[start..<min(start + options.batchSize, order.count)]
                let images = items.map { Self.augment(patients[$0.patient].images[$0.slice], size: size, rng: &rng) }
                optimizer.hyper.lr = Float(schedule.rate(at: step))
                let tape = Tape(backend: backend)
                let out = try model.forward(tape.input(try batchTensor(images, size: size)), tape: tape, seed: options.seed &+ UInt64(step))
                let labels = items.map { patients[$0.patient].label }
                var loss = try tape.crossEntropy(out.logits, classes: labels, smoothing: options.labelSmoothing)
                if let aux = out.auxLogits {   // torchvision's recipe: 0.4 × the auxiliary loss
                    loss = try tape.add(loss, try tape.scale(try tape.crossEntropy(aux, classes: labels, smoothing: options.labelSmoothing), 0.4))
                }
                let value = try backend.download(loss.value)[0]
                guard value.isFinite else {
                    throw NonFiniteLoss(values: ["loss": value], inputFinite: images.allSatisfy { $0.allSatisfy(\.isFinite) })
                }
                try tape.backward(loss)
                try optimizer.update(model.namedParameters())
                losses.append(value)
                step += 1
                log?(epoch, step, value)
            }
            if epoch >= swaFrom && options.swaStart < 1 {   // running mean of the weights after each epoch
                for (key, p) in model.namedParameters() {
                    if let s = swa[key] {
                        try backend.axpy(alpha: 1 / Float(averaged + 1), x: try backend.elementwise(.sub, p.value, s), y: s)
                    } else {
                        swa[key] = try backend.copy(p.value, name: "swa \(key)")
                    }
                }
                averaged += 1
            }
        }
        if averaged > 0 {
            for (key, p) in model.namedParameters() { try p.assign(swa[key]!) }
            try updateBatchNorm(patients, size: size)
        }
        model.training = false
    }

    /// torch.optim.swa_utils.update_bn: running statistics recomputed as the cumulative average over one
    /// pass of the (unaugmented) training slices with the averaged weights.
    func updateBatchNorm(_ patients: [PatientSlices], size: Int) throws {
        let norms = model.batchNorms
        let saved = norms.map(\.momentum)
        for bn in norms {
            try bn.runningMean.assign(try backend.zeros(bn.runningMean.value.shape, name: "running_mean"))
            try bn.runningVar.assign(try backend.full(bn.runningVar.value.shape, value: 1, name: "running_var"))
        }
        let all = patients.flatMap(\.images)
        model.training = true
        for (k, start) in stride(from: 0, to: all.count, by: options.batchSize).enumerated() {
            for bn in norms { bn.momentum = 1 / Float(k + 1) }
            let tape = Tape(backend: backend, recording: false)
            _ = try model.forward(tape.input(try batchTensor(Array(all[start..<min(start + options.batchSize, all.count)]), size: size)),
                                  tape: tape)
        }
        for (bn, m) in zip(norms, saved) { bn.momentum = m }
        model.training = false
    }

    /// Patient-level class probabilities: the mean of the slice softmax outputs (eval mode).
    public func predict(_ p: PatientSlices) throws -> [Double] {
        try Self.predict(model, backend: backend, images: p.images, size: p.size, batch: options.batchSize)
    }

    /// A classifier written by `write(to:size:)`: the model (strictly loaded) and its input size.
    public static func load(_ url: URL, backend: Backend) throws -> (model: InceptionV3, size: Int) {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == "swinliver.inception_v3.v1", let size = file.metadata["size"].flatMap(Int.init),
              let json = file.metadata["options"] else {
            throw SliceError(problem: "\(url.path): not a SwinLiver classifier (train one with `swinliver classify train`)")
        }
        let o = try JSONDecoder().decode(ClassifierOptions.self, from: Data(json.utf8))
        let model = try InceptionV3(classes: tumourClassNames.count, auxLogits: o.auxLogits, head: .mlp(dropout: o.dropout), backend: backend)
        try model.load(from: file, backend: backend)
        return (model, size)
    }

    /// Patient-level probabilities from any classifier model (the mean of the slice softmax outputs).
    public static func predict(_ model: InceptionV3, backend: Backend, images: [[Float]], size: Int, batch: Int = 16) throws -> [Double] {
        model.training = false
        var sum = [Double](repeating: 0, count: tumourClassNames.count)
        for start in stride(from: 0, to: images.count, by: batch) {
            let part = images[start..<min(start + batch, images.count)]
            var flat: [Float] = []
            for im in part { for _ in 0..<3 { flat += im } }
            let tape = Tape(backend: backend, recording: false)
            let x = try backend.upload(flat, shape: Shape(part.count, 3, size, size), name: "slice batch")
            let probs = try backend.download(try backend.softmax(try model(tape.input(x), tape: tape).value))
            for (i, v) in probs.enumerated() { sum[i % sum.count] += Double(v) }
        }
        return sum.map { $0 / Double(max(images.count, 1)) }
    }

    /// The trained weights (torchvision keys; the paper's head as fc.0/3/6) with the options in the metadata.
    public func write(to url: URL, size: Int) throws {
        var w = SafeTensorsWriter()
        w.metadata = ["format": "swinliver.inception_v3.v1", "classes": tumourClassNames.joined(separator: ","), "size": "\(size)",
                      "options": String(decoding: try JSONEncoder().encode(options), as: UTF8.self)]
        try model.stateDict(into: &w, backend: backend)
        try w.write(to: url)
    }
}
