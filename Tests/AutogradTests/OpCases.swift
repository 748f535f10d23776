import Autograd
import Kernels
import TestSupport

/// How a test input is filled.
enum Fill: Sendable {
    case normal
    /// |x| ≥ 0.1: finite differences never cross the ReLU / LeakyReLU kink.
    case awayFromZero
    /// A shuffled grid with steps of 0.05: max pooling's argmax never flips under a 1e-2 nudge.
    case distinct
    /// 1 ≤ |x| ≤ 1.5 with random signs: normalised values stay far from 0, so a LeakyReLU after a normalisation never
    /// crosses its kink under a 1e-2 nudge.
    case gapped
    /// N(0, 0.2²): small next to a gapped input.
    case small
}

struct InputSpec: Sendable {
    let shape: Shape
    var fill: Fill = .normal
    init(_ dims: Int..., fill: Fill = .normal) { shape = Shape(dims); self.fill = fill }
}

/// One op under test: its inputs and how to build its output on a tape.
struct OpCase: Sendable {
    let name: String
    let inputs: [InputSpec]
    let build: @Sendable (Tape, [Variable]) throws -> Variable

    init(_ name: String, _ inputs: [InputSpec], _ build: @escaping @Sendable (Tape, [Variable]) throws -> Variable) {
        self.name = name
        self.inputs = inputs
        self.build = build
    }

    /// Input values for seed `seed` (identical for every backend).
    func values(seed: UInt64) -> [[Float]] {
        var rng = TestRandom(seed: seed)
        return inputs.map { spec in
            let n = spec.shape.count
            switch spec.fill {
            case .normal: return rng.normals(n)
            case .awayFromZero: return rng.normals(n).map { $0 + ($0 < 0 ? -0.1 : 0.1) }
            case .gapped: return (0..<n).map { _ in (rng.next() % 2 == 0 ? 1 : -1) * rng.uniform(1, 1.5) }
            case .small: return rng.normals(n, scale: 0.2)
            case .distinct:
                var grid = (0..<n).map { Float($0) * 0.05 - Float(n) * 0.025 }
                for i in stride(from: n - 1, to: 0, by: -1) { grid.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                return grid
            }
        }
    }

    /// Forward + backward with upstream gradient `seedGrad` (the gradient of Σ out·R is R).
    func run(on backend: Backend, values: [[Float]], upstream: (Shape) -> [Float]) throws
        -> (output: [Float], shape: Shape, grads: [[Float]])
    {
        let tape = Tape(backend: backend)
        let vars = try zip(inputs, values).enumerated().map { i, pair in
            tape.input(try backend.upload(pair.1, shape: pair.0.shape, name: "\(name).input\(i)"), requiresGrad: true)
        }
        let out = try build(tape, vars)
        let r = try backend.upload(upstream(out.shape), shape: out.shape, name: "upstream")
        try tape.backward(out, seed: r)
        return (try backend.download(out.value), out.shape,
                try vars.map { v in try v.grad.map { try backend.download($0) } ?? [Float](repeating: 0, count: v.shape.count) })
    }

    /// Forward only, returning Σ out·R in Double.
    func loss(on backend: Backend, values: [[Float]], upstream: [Float]) throws -> Double {
        let tape = Tape(backend: backend)
        let vars = try zip(inputs, values).map { spec, v in tape.input(try backend.upload(v, shape: spec.shape, name: "fd input")) }
        let out = try backend.download(try build(tape, vars).value)
        return zip(out, upstream).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
}

/// Every differentiable op of the foundation, on small odd shapes.
let opCases: [OpCase] = [
    OpCase("matmul", [InputSpec(5, 7), InputSpec(7, 3)]) { t, v in try t.matmul(v[0], v[1]) },
    OpCase("matmul AᵀB", [InputSpec(7, 5), InputSpec(7, 3)]) { t, v in try t.matmul(v[0], v[1], transA: true) },
    OpCase("matmul ABᵀ", [InputSpec(5, 7), InputSpec(3, 7)]) { t, v in try t.matmul(v[0], v[1], transB: true) },
    OpCase("matmul AᵀBᵀ", [InputSpec(7, 5), InputSpec(3, 7)]) { t, v in try t.matmul(v[0], v[1], transA: true, transB: true) },
    OpCase("bmm", [InputSpec(3, 4, 6), InputSpec(3, 6, 5)]) { t, v in try t.matmul(v[0], v[1]) },
    OpCase("bmm ABᵀ", [InputSpec(2, 9, 5), InputSpec(2, 7, 5)]) { t, v in try t.matmul(v[0], v[1], transB: true) },
    OpCase("linear", [InputSpec(2, 3, 5), InputSpec(4, 5), InputSpec(4)]) { t, v in try t.linear(v[0], weight: v[1], bias: v[2]) },
    OpCase("linear no bias", [InputSpec(7, 5), InputSpec(3, 5)]) { t, v in try t.linear(v[0], weight: v[1], bias: nil) },
    OpCase("linear + residual", [InputSpec(2, 3, 5), InputSpec(4, 5), InputSpec(4), InputSpec(2, 3, 4)]) { t, v in
        try t.linear(v[0], weight: v[1], bias: v[2], residual: v[3])
    },
    OpCase("linear no bias + residual", [InputSpec(7, 5), InputSpec(3, 5), InputSpec(7, 3)]) { t, v in
        try t.linear(v[0], weight: v[1], bias: nil, residual: v[2])
    },
    OpCase("linear + GELU", [InputSpec(2, 3, 5), InputSpec(4, 5), InputSpec(4)]) { t, v in
        try t.linear(v[0], weight: v[1], bias: v[2], activation: .gelu)
    },
 // Joins: an intermediate x reached along two paths gets its second gradient added into the first in place (Tape;
    // a leaf's gradient never is, so each case starts from x = 1.5·input).
    OpCase("join: x + linear(layerNorm(x)) (a transformer block's skip)",
           [InputSpec(2, 3, 5), InputSpec(5), InputSpec(5), InputSpec(5, 5), InputSpec(5)]) { t, v in
        let x = try t.scale(v[0], 1.5)
        return try t.linear(try t.layerNorm(x, weight: v[1], bias: v[2]), weight: v[3], bias: v[4], residual: x)
    },
    OpCase("join: x·x + layerNorm(reshape(x)) + x", [InputSpec(3, 4)]) { t, v in
        let x = try t.scale(v[0], 1.5)
        let n = try t.reshape(try t.layerNorm(try t.reshape(x, Shape(2, 6)), weight: nil, bias: nil), Shape(3, 4))
        return try t.add(try t.add(try t.mul(x, x), n), x)
    },
    OpCase("join: IN(conv3(x)) + IN(conv1(x)) (a residual block's two paths)",
           [InputSpec(1, 2, 4, 5, 6), InputSpec(3, 2, 3, 3, 3), InputSpec(3, 2, 1, 1, 1)]) { t, v in
        let x = try t.scale(v[0], 1.5)
        let a = try t.instanceNorm(try t.conv3d(x, weight: v[1], bias: nil, options: .init(stride: 1, padding: 1)),
                                   weight: nil, bias: nil)
        let b = try t.instanceNorm(try t.conv3d(x, weight: v[2], bias: nil), weight: nil, bias: nil)
        return try t.add(a, b)
    },
    OpCase("join: IN(conv1(x)) + IN(conv3(x)), the 3×3 path first", [InputSpec(1, 2, 4, 5, 6), InputSpec(3, 2, 1, 1, 1),
                                                                     InputSpec(3, 2, 3, 3, 3)]) { t, v in
        let x = try t.scale(v[0], 1.5)
        let a = try t.instanceNorm(try t.conv3d(x, weight: v[1], bias: nil), weight: nil, bias: nil)
        let b = try t.instanceNorm(try t.conv3d(x, weight: v[2], bias: nil, options: .init(stride: 1, padding: 1)),
                                   weight: nil, bias: nil)
        return try t.add(a, b)
    },
    OpCase("addBias axis -1", [InputSpec(3, 4, 5), InputSpec(5)]) { t, v in try t.addBias(v[0], v[1], axis: -1) },
    OpCase("add", [InputSpec(3, 5), InputSpec(3, 5)]) { t, v in try t.add(v[0], v[1]) },
    OpCase("sub", [InputSpec(3, 5), InputSpec(3, 5)]) { t, v in try t.sub(v[0], v[1]) },
    OpCase("mul", [InputSpec(3, 5), InputSpec(3, 5)]) { t, v in try t.mul(v[0], v[1]) },
    OpCase("scale", [InputSpec(4, 3)]) { t, v in try t.scale(v[0], -1.7) },
    OpCase("div", [InputSpec(3, 5), InputSpec(3, 5, fill: .gapped)]) { t, v in try t.div(v[0], v[1]) },
    OpCase("abs", [InputSpec(5, 7, fill: .awayFromZero)]) { t, v in try t.unary(.abs, v[0]) },
    OpCase("normalizeRows", [InputSpec(5, 7)]) { t, v in try t.normalizeRows(v[0]) },
    OpCase("crossEntropy smoothed", [InputSpec(6, 4)]) { t, v in try t.crossEntropy(v[0], classes: [0, 3, 1, 2, 3, 0], smoothing: 0.1) },
    OpCase("contrastive", [InputSpec(3, 5), InputSpec(3, 5)]) { t, v in try t.contrastiveLoss(v[0], v[1], temperature: 0.5) },
    OpCase("relu", [InputSpec(5, 7, fill: .awayFromZero)]) { t, v in try t.relu(v[0]) },
    OpCase("leakyRelu", [InputSpec(5, 7, fill: .awayFromZero)]) { t, v in try t.leakyRelu(v[0], slope: 0.01) },
    OpCase("gelu", [InputSpec(5, 7)]) { t, v in try t.gelu(v[0]) },
    OpCase("sigmoid", [InputSpec(5, 7)]) { t, v in try t.sigmoid(v[0]) },
    OpCase("addBias axis 1", [InputSpec(2, 3, 4, 5), InputSpec(3)]) { t, v in try t.addBias(v[0], v[1], axis: 1) },
    OpCase("softmax", [InputSpec(4, 3, 7)]) { t, v in try t.softmax(v[0]) },
    OpCase("layerNorm", [InputSpec(3, 5, 6), InputSpec(6), InputSpec(6)]) { t, v in
        try t.layerNorm(v[0], weight: v[1], bias: v[2])
    },
    OpCase("layerNorm no affine", [InputSpec(7, 9)]) { t, v in try t.layerNorm(v[0], weight: nil, bias: nil) },
    OpCase("instanceNorm3d affine", [InputSpec(2, 3, 3, 4, 5), InputSpec(3), InputSpec(3)]) { t, v in
        try t.instanceNorm(v[0], weight: v[1], bias: v[2])
    },
    OpCase("instanceNorm3d", [InputSpec(2, 3, 3, 4, 5)]) { t, v in try t.instanceNorm(v[0], weight: nil, bias: nil) },
    OpCase("instanceNorm3d + LeakyReLU fused", [InputSpec(2, 3, 3, 4, 5, fill: .gapped)]) { t, v in
        try t.instanceNorm(v[0], weight: nil, bias: nil, activation: .leakyRelu(slope: 0.1))
    },
    OpCase("instanceNorm3d affine + LeakyReLU", [InputSpec(1, 2, 3, 4, 5, fill: .gapped), InputSpec(2, fill: .small),
                                                 InputSpec(2, fill: .small)]) { t, v in
        // weight = 1 + small, bias small: the normalised, scaled values stay away from the kink.
        let one = t.input(try t.backend.full(Shape(2), value: 1, name: "ones"))
        return try t.instanceNorm(v[0], weight: try t.add(one, v[1]), bias: v[2], activation: .leakyRelu(slope: 0.1))
    },
    OpCase("add + LeakyReLU fused", [InputSpec(4, 7, fill: .gapped), InputSpec(4, 7, fill: .small)]) { t, v in
        try t.addLeakyRelu(v[0], v[1], slope: 0.1)
    },
    OpCase("batchNorm2d train", [InputSpec(3, 4, 5, 3), InputSpec(4), InputSpec(4)]) { t, v in
        let running = RunningStats(mean: try t.backend.full(Shape(4), value: 0.2, name: "rm"),
                                   variance: try t.backend.full(Shape(4), value: 1.5, name: "rv"))
        return try t.batchNorm(v[0], weight: v[1], bias: v[2], running: running, training: true, eps: 1e-3)
    },
    OpCase("batchNorm2d eval", [InputSpec(3, 4, 5, 3), InputSpec(4), InputSpec(4)]) { t, v in
        let running = RunningStats(mean: try t.backend.upload([0.1, -0.2, 0.3, 0], shape: Shape(4), name: "rm"),
                                   variance: try t.backend.upload([0.5, 1.5, 2, 0.8], shape: Shape(4), name: "rv"))
        return try t.batchNorm(v[0], weight: v[1], bias: v[2], running: running, training: false, eps: 1e-3)
    },
    OpCase("conv3d k3 s1 p1", [InputSpec(2, 2, 5, 6, 7), InputSpec(3, 2, 3, 3, 3), InputSpec(3)]) { t, v in
        try t.conv3d(v[0], weight: v[1], bias: v[2], options: .init(stride: 1, padding: 1))
    },
    OpCase("conv3d k2 s2", [InputSpec(1, 3, 4, 6, 6), InputSpec(5, 3, 2, 2, 2), InputSpec(5)]) { t, v in
        try t.conv3d(v[0], weight: v[1], bias: v[2], options: .init(stride: 2, padding: 0))
    },
    OpCase("conv3d k3 s2 p1 no bias", [InputSpec(1, 2, 7, 5, 6), InputSpec(4, 2, 3, 3, 3)]) { t, v in
        try t.conv3d(v[0], weight: v[1], bias: nil, options: .init(stride: 2, padding: 1))
    },
    OpCase("conv3d k1", [InputSpec(2, 4, 3, 3, 5), InputSpec(3, 4, 1, 1, 1), InputSpec(3)]) { t, v in
        try t.conv3d(v[0], weight: v[1], bias: v[2])
    },
    OpCase("convTranspose3d k2 s2", [InputSpec(2, 3, 3, 4, 5), InputSpec(3, 2, 2, 2, 2)]) { t, v in
        try t.convTranspose3d(v[0], weight: v[1], bias: nil, options: .init(stride: 2, padding: 0))
    },
    OpCase("convTranspose3d k2 s2 bias", [InputSpec(1, 4, 2, 3, 3), InputSpec(4, 3, 2, 2, 2), InputSpec(3)]) { t, v in
        try t.convTranspose3d(v[0], weight: v[1], bias: v[2], options: .init(stride: 2, padding: 0))
    },
    OpCase("conv2d 3x3 s2 p1", [InputSpec(2, 3, 9, 8), InputSpec(4, 3, 3, 3), InputSpec(4)]) { t, v in
        try t.conv2d(v[0], weight: v[1], bias: v[2], stride: (2, 2), padding: (1, 1))
    },
    OpCase("conv2d 1x3", [InputSpec(1, 3, 5, 7), InputSpec(2, 3, 1, 3)]) { t, v in
        try t.conv2d(v[0], weight: v[1], bias: nil, padding: (0, 1))
    },
    OpCase("conv2d 3x1", [InputSpec(1, 3, 7, 5), InputSpec(2, 3, 3, 1)]) { t, v in
        try t.conv2d(v[0], weight: v[1], bias: nil, padding: (1, 0))
    },
    OpCase("maxPool2d k3 s2", [InputSpec(2, 3, 9, 8, fill: .distinct)]) { t, v in try t.maxPool2d(v[0], kernel: (3, 3), stride: (2, 2)) },
    OpCase("maxPool2d k3 s1 p1", [InputSpec(1, 2, 5, 6, fill: .distinct)]) { t, v in
        try t.maxPool2d(v[0], kernel: (3, 3), stride: (1, 1), padding: (1, 1))
    },
    OpCase("avgPool2d k3 s1 p1", [InputSpec(2, 3, 6, 5)]) { t, v in
        try t.avgPool2d(v[0], kernel: (3, 3), stride: (1, 1), padding: (1, 1))
    },
    OpCase("avgPool2d exclude pad", [InputSpec(1, 2, 7, 6)]) { t, v in
        try t.avgPool2d(v[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false)
    },
    OpCase("adaptiveAvgPool2d 1x1", [InputSpec(2, 3, 5, 7)]) { t, v in try t.adaptiveAvgPool2d(v[0], outputSize: (1, 1)) },
    OpCase("adaptiveAvgPool2d 3x2", [InputSpec(1, 2, 7, 5)]) { t, v in try t.adaptiveAvgPool2d(v[0], outputSize: (3, 2)) },
    OpCase("concat axis 1", [InputSpec(2, 3, 4), InputSpec(2, 5, 4)]) { t, v in try t.concat([v[0], v[1]], axis: 1) },
    OpCase("split axis 2", [InputSpec(2, 3, 7)]) { t, v in
        let parts = try t.split(v[0], sizes: [2, 5], axis: 2)
        return try t.concat([try t.scale(parts[1], 2), parts[0]], axis: 2)
    },
    OpCase("permute", [InputSpec(2, 3, 4, 5)]) { t, v in try t.permute(v[0], [2, 0, 3, 1]) },
    OpCase("reshape", [InputSpec(2, 3, 4)]) { t, v in try t.gelu(try t.reshape(v[0], Shape(6, 4))) },
    OpCase("sum axis", [InputSpec(3, 4, 5)]) { t, v in try t.sum(v[0], axis: 1) },
    OpCase("sum all", [InputSpec(3, 4, 5)]) { t, v in try t.sum(v[0]) },
    OpCase("mean axis", [InputSpec(3, 4, 5)]) { t, v in try t.mean(v[0], axis: -1) },
    OpCase("mean all", [InputSpec(4, 5)]) { t, v in try t.mean(v[0]) },
    OpCase("dropout", [InputSpec(6, 7)]) { t, v in try t.dropout(v[0], p: 0.3, seed: 1234) },
    OpCase("diceCE loss", [InputSpec(2, 3, 4, 5)]) { t, v in
        let labels = try t.backend.upload((0..<40).map { Float(($0 * 7 + $0 / 5) % 3) }, shape: Shape(2, 1, 4, 5), name: "labels")
        return try t.diceCELoss(v[0], labels: labels).loss
    },
    OpCase("diceCE loss, batch Dice, a class absent from one sample", [InputSpec(2, 3, 4, 5)]) { t, v in
        var options = DiceCEOptions()
        options.batch = true
        let ids: [Float] = (0..<40).map { (i: Int) -> Float in Float(i < 20 ? i % 2 : (i * 7 + i / 5) % 3) }
        let labels = try t.backend.upload(ids, shape: Shape(2, 1, 4, 5), name: "labels")
        return try t.diceCELoss(v[0], labels: labels, options: options).loss
    },
    OpCase("windowPartition shifted, padded", [InputSpec(2, 5, 6, 9, 3)]) { t, v in
        try t.windowPartition(v[0], WindowGeometry(batch: 2, size: [5, 6, 9], channels: 3, window: [3, 3, 4], shift: [1, 1, 2]))
    },
    OpCase("windowMerge clipped", [InputSpec(1 * 2, 24, 2)]) { t, v in
        // size (2, 3, 7): depth and height clip the window to (2, 3) with no shift; width pads 7 → 8.
        try t.windowMerge(v[0], WindowGeometry(batch: 1, size: [2, 3, 7], channels: 2, window: [4, 4, 4], shift: [2, 2, 2]))
    },
    OpCase("patchMerge odd", [InputSpec(1, 3, 4, 5, 2)]) { t, v in try t.patchMerge(v[0]) },
    OpCase("windowAttentionSoftmax shifted", [InputSpec(8 * 2, 8, 8), InputSpec(27, 2)]) { t, v in
        let g = WindowGeometry(batch: 1, size: [3, 4, 4], channels: 4, window: [2, 2, 2], shift: [1, 1, 1])
        let k = try WindowAttentionConstants(geometry: g, fullWindow: [2, 2, 2], backend: t.backend)
        return try t.windowAttentionSoftmax(v[0], table: v[1], constants: k, heads: 2)
    },
    OpCase("windowAttentionSoftmax clipped", [InputSpec(2 * 3, 18, 18), InputSpec(125, 3)]) { t, v in
        let g = WindowGeometry(batch: 2, size: [2, 3, 3], channels: 6, window: [5, 5, 5], shift: [2, 2, 2])
        let k = try WindowAttentionConstants(geometry: g, fullWindow: [3, 3, 3], backend: t.backend)
        return try t.windowAttentionSoftmax(v[0], table: try t.reshape(v[1], Shape(125, 3)), constants: k, heads: 3)
    },
    // Fused attention: qkv (B, D, H, W, 3C), pad bias (3C), table (T, heads).
    OpCase("windowAttention fused, shifted and padded", [InputSpec(2, 3, 4, 5, 12), InputSpec(12), InputSpec(45, 2)]) { t, v in
        let g = WindowGeometry(batch: 2, size: [3, 4, 5], channels: 4, window: [2, 2, 3], shift: [1, 1, 1])
        let k = try WindowAttentionConstants(geometry: g, fullWindow: [2, 2, 3], backend: t.backend)
        return try t.windowAttention(v[0], padBias: v[1], table: v[2], constants: k, heads: 2)
    },
    OpCase("windowAttention fused, clipped", [InputSpec(2, 2, 3, 3, 18), InputSpec(18), InputSpec(125, 3)]) { t, v in
        let g = WindowGeometry(batch: 2, size: [2, 3, 3], channels: 6, window: [5, 5, 5], shift: [2, 2, 2])
        let k = try WindowAttentionConstants(geometry: g, fullWindow: [3, 3, 3], backend: t.backend)
        return try t.windowAttention(v[0], padBias: v[1], table: v[2], constants: k, heads: 3)
    },
]

/// The forward output and every input gradient of one op case run on two backends (or two builds) agree within
/// `rel` (assertClose's measure).
func assertSameResults(_ got: (output: [Float], shape: Shape, grads: [[Float]]),
                       _ expected: (output: [Float], shape: Shape, grads: [[Float]]), rel: Float, _ name: String,
                       file: StaticString = #filePath, line: UInt = #line) {
    assertClose(got.output, expected.output, rel: rel, "\(name): forward", file: file, line: line)
    for k in 0..<expected.grads.count {
        assertClose(got.grads[k], expected.grads[k], rel: rel, "\(name): gradient of input \(k)", file: file, line: line)
    }
}
