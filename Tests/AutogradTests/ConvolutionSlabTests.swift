import Autograd
import Kernels
import TestSupport
import XCTest

/// A convolution cut into many column slabs (a column budget of one output depth or less) gives what one slab
/// gives: the output, dx written fresh and dx added into an existing gradient (col2im's first-touch overwrite and its
/// accumulate mode across slabs), and dW summed over slabs and samples (one GEMM sum). Samples taken in groups (one
/// strided-batched GEMM per group, the last group shorter) give what one sample at a time gives.
final class ConvolutionSlabTests: XCTestCase {
    private let cases: [OpCase] = [
        OpCase("conv3d k3 s1 p1", [InputSpec(2, 3, 7, 5, 6), InputSpec(4, 3, 3, 3, 3)]) { t, v in
            try t.conv3d(v[0], weight: v[1], bias: nil, options: .init(stride: 1, padding: 1))
        },
        OpCase("conv3d k3 s2 p1", [InputSpec(1, 2, 9, 6, 5), InputSpec(3, 2, 3, 3, 3), InputSpec(3)]) { t, v in
            try t.conv3d(v[0], weight: v[1], bias: v[2], options: .init(stride: 2, padding: 1))
        },
        OpCase("conv3d k2 s2 (slabs touch disjoint depths)", [InputSpec(1, 2, 8, 4, 4), InputSpec(3, 2, 2, 2, 2)]) { t, v in
            try t.conv3d(v[0], weight: v[1], bias: nil, options: .init(stride: 2, padding: 0))
        },
        OpCase("convTranspose3d k2 s2", [InputSpec(2, 3, 4, 3, 3), InputSpec(3, 2, 2, 2, 2)]) { t, v in
            try t.convTranspose3d(v[0], weight: v[1], bias: nil, options: .init(stride: 2, padding: 0))
        },
    ]

    private func withBudget(_ floats: Int?, _ backends: [Backend]) -> [Backend] {
        for b in backends {
            (b as? CPUBackend)?.columnSlabFloats = floats
            (b as? OpenCLBackend)?.columnSlabFloats = floats
        }
        return backends
    }

    /// The case run on `a` and on `b` (same values): outputs and gradients, and gradients added into prefilled slots.
    private func assertSameRuns(_ c: OpCase, _ a: Backend, _ b: Backend, seed: UInt64, upstream: (Shape) -> [Float],
                                _ how: String) throws {
        let values = c.values(seed: seed)
        var rng = TestRandom(seed: seed + 20)
        let prefill = c.inputs.map { rng.normals($0.shape.count) }
        let what = "\(c.name) on \(a.deviceName), \(how)"
        assertSameResults(try c.run(on: a, values: values, upstream: upstream),
                          try c.run(on: b, values: values, upstream: upstream), rel: 1e-5, what)
        let x = try c.runAccumulating(on: a, values: values, prefill: prefill, upstream: upstream)
        let y = try c.runAccumulating(on: b, values: values, prefill: prefill, upstream: upstream)
        for k in 0..<x.count { assertClose(x[k], y[k], rel: 1e-5, "\(what), added into slot \(k)") }
    }

    func testSampleGroupsEqualOneSampleAtATime() throws {
        let upstream = { (s: Shape) -> [Float] in var r = TestRandom(seed: 29); return r.normals(s.count) }
        let grouped: [OpCase] = [
            OpCase("conv3d k3 s1 p1, 3 samples", [InputSpec(3, 2, 4, 3, 3), InputSpec(3, 2, 3, 3, 3)]) { t, v in
                try t.conv3d(v[0], weight: v[1], bias: nil, options: .init(stride: 1, padding: 1))
            },
            OpCase("convTranspose3d k2 s2, 3 samples", [InputSpec(3, 3, 2, 3, 3), InputSpec(3, 2, 2, 2, 2)]) { t, v in
                try t.convTranspose3d(v[0], weight: v[1], bias: nil, options: .init(stride: 2, padding: 0))
            },
        ]
        // Columns of one sample: conv (C·K = 54) × (4·3·3 = 36); the transposed one's forward geometry (2·8 = 16) × (2·3·3 = 18).
        let twoSamples = [2 * 54 * 36, 2 * 16 * 18]
        for (i, c) in grouped.enumerated() {
            let pairs = withBudget(twoSamples[i], try TestBackends.all())
            let single = withBudget(40, try TestBackends.all())
            for (b, one) in zip(pairs, single) {
                let g = i == 0
                    ? ConvGeometry(channels: 2, input: (4, 3, 3), kernel: (3, 3, 3), stride: (1, 1, 1), padding: (1, 1, 1))
                    : ConvGeometry(channels: 2, input: (4, 6, 6), kernel: (2, 2, 2), stride: (2, 2, 2), padding: (0, 0, 0))
                XCTAssertEqual(b.convSampleGroup(g, samples: 3), 2, "\(c.name): groups of 2 and 1")
                XCTAssertEqual(one.convSampleGroup(g, samples: 3), 1)
                try assertSameRuns(c, b, one, seed: UInt64(70 + i), upstream: upstream, "grouped")
            }
        }
    }

    func testManySlabsEqualOneSlab() throws {
        let upstream = { (s: Shape) -> [Float] in var r = TestRandom(seed: 23); return r.normals(s.count) }
        let oneSlab = withBudget(nil, try TestBackends.all())
        let manySlabs = withBudget(40, try TestBackends.all())   // fewer floats than one output depth's columns
        for (whole, sliced) in zip(oneSlab, manySlabs) {
            for (i, c) in cases.enumerated() {
                try assertSameRuns(c, sliced, whole, seed: UInt64(40 + i), upstream: upstream, "many slabs")
            }
        }
    }
}
