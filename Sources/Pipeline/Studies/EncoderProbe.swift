import Autograd
import Foundation
import Kernels
import Metrics
import Models
import Volumes

/// A linear probe of a frozen Swin encoder: how well its features at one stage tell tumour from everything else,
/// with nothing trained but a ridge classifier on top. Crops are drawn from labeled cases (tumour-rich, as
/// fine-tuning draws them), each token of the stage's output is labelled tumour when at least `tumourFraction` of
/// the voxels under it are tumour, the classifier is fitted on the tokens of `train` and its ROC AUC measured on the
/// tokens of `test`. Run on a pretrained encoder and on a random one, it says whether pretraining put tumour
/// information into the features.
public struct EncoderProbe {
    public var roi: [Int]
    public var spacing: [Double]
    /// Crops per case.
    public var samples = 4
    /// Hidden state of `SwinTransformer` (0 patch embedding … 4 last stage); stage k's tokens cover 2^(k+1) voxels per axis.
    public var stage = 2
    public var tumourFraction = 0.25
    /// Ridge penalty on the standardised features (per token).
    public var ridge = 1e-2
    public var seed: UInt64 = 0

    public init(roi: [Int], spacing: [Double]) { self.roi = roi; self.spacing = spacing }

    public struct Result: Equatable {
        public var auc: Double
        public var trainTokens: Int, trainPositives: Int, testTokens: Int, testPositives: Int
        public var json: [String: Any] {
            ["auc": jsonNumber(auc), "train_tokens": trainTokens, "train_tumour_tokens": trainPositives, "test_tokens": testTokens,
             "test_tumour_tokens": testPositives]
        }
    }

    public func run(encoder: SwinTransformer, train: [CaseEntry], test: [CaseEntry], backend: Backend) throws -> Result {
        let (xTrain, yTrain) = try tokens(encoder: encoder, cases: train, backend: backend)
        let (xTest, yTest) = try tokens(encoder: encoder, cases: test, backend: backend)
        let w = Self.fit(xTrain, yTrain, ridge: ridge)
        let scores = xTest.map { Self.score($0, w) }
        return Result(auc: rocAUC(positive: yTest, scores: scores), trainTokens: yTrain.count, trainPositives: yTrain.filter { $0 }.count,
                      testTokens: yTest.count, testPositives: yTest.filter { $0 }.count)
    }

    /// The stage's token features (one row per token) and whether each covers tumour, from seeded crops of `cases`.
    func tokens(encoder: SwinTransformer, cases: [CaseEntry], backend: Backend) throws -> (x: [[Double]], y: [Bool]) {
        var sampler = PatchSampler(roi: roi, samples: samples)
        sampler.classRatios = [1, 1, 3]
        let loader = try PatchLoader(cases: cases, preprocessing: Preprocessing(spacing: spacing), sampler: sampler, augmentation: .none,
                                     batchSize: 2, seed: seed)
        let block = 1 << (stage + 1)
        let grid = roi.map { $0 / block }
        var x: [[Double]] = [], y: [Bool] = []
        try loader.epoch(0) { batch in
            let tape = Tape(backend: backend, recording: false)
            let input = tape.input(try backend.upload(batch.images, shape: Shape([batch.count, 1] + batch.size), name: "probe crops"))
            let hidden = try encoder(input, normalize: true, tape: tape)[stage].value   // (B, C, d, h, w)
            let values = try backend.download(hidden)
            let channels = hidden.shape[1], perToken = grid.reduce(1, *)
            let voxels = batch.size.reduce(1, *)
            for b in 0..<batch.count {
                for t in 0..<perToken {
                    let (i, j, k) = (t / (grid[1] * grid[2]), t / grid[2] % grid[1], t % grid[2])
                    x.append((0..<channels).map { Double(values[(b * channels + $0) * perToken + t]) })
                    var tumour = 0
                    for a in 0..<block { for c in 0..<block { for d in 0..<block {
                        let v = ((i * block + a) * batch.size[1] + j * block + c) * batch.size[2] + k * block + d
                        if batch.labels[b * voxels + v].rounded() == 2 { tumour += 1 }
                    } } }
                    y.append(Double(tumour) >= tumourFraction * Double(block * block * block))
                }
            }
        }
        return (x, y)
    }

    /// Ridge regression of y ∈ {0, 1} on standardised features with an intercept; returns (mean, scale, weights, bias)
    /// packed as [means…, scales…, weights…, bias].
    static func fit(_ x: [[Double]], _ y: [Bool], ridge: Double) -> [Double] {
        let n = Double(x.count), c = x.first?.count ?? 0
        let mean = (0..<c).map { j in x.reduce(0) { $0 + $1[j] } / n }
        let scale = (0..<c).map { j in max((x.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / n).squareRoot(), 1e-12) }
        let target = y.map { $0 ? 1.0 : 0.0 }, yMean = target.reduce(0, +) / n
        // Normal equations on the centred data: (ZᵀZ / n + ridge·I) w = Zᵀ(y − ȳ) / n.
        var a = [[Double]](repeating: [Double](repeating: 0, count: c), count: c), rhs = [Double](repeating: 0, count: c)
        for (row, t) in zip(x, target) {
            let z = (0..<c).map { (row[$0] - mean[$0]) / scale[$0] }
            for p in 0..<c {
                rhs[p] += z[p] * (t - yMean) / n
                for q in 0..<c { a[p][q] += z[p] * z[q] / n }
            }
        }
        for p in 0..<c { a[p][p] += ridge }
        return mean + scale + solve(a, rhs) + [yMean]
    }

    static func score(_ row: [Double], _ model: [Double]) -> Double {
        let c = row.count
        var s = model[3 * c]
        for j in 0..<c { s += (row[j] - model[j]) / model[c + j] * model[2 * c + j] }
        return s
    }

    /// a·w = b for a symmetric positive definite a (Gaussian elimination with partial pivoting).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a, v = b
        let n = b.count
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            m.swapAt(col, pivot); v.swapAt(col, pivot)
            for r in (col + 1)..<n {
                let f = m[r][col] / m[col][col]
                for k in col..<n { m[r][k] -= f * m[col][k] }
                v[r] -= f * v[col]
            }
        }
        var w = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            w[r] = (v[r] - ((r + 1)..<n).reduce(0) { $0 + m[r][$1] * w[$1] }) / m[r][r]
        }
        return w
    }
}
