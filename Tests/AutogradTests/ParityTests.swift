import Autograd
@testable import Kernels
import TestSupport
import XCTest

/// Every op's OpenCL forward output and gradients equal the CPU reference (rel ≤ 1e-5).
final class ParityTests: XCTestCase {
    func testEveryOpMatchesCPUReference() throws {
        let cpu = CPUBackend()
        let cl = try TestBackends.openCL()
        print("OpenCL parity on \(cl.deviceName)")
        for (i, c) in opCases.enumerated() {
            let values = c.values(seed: UInt64(100 + i))
            let upstream = { (s: Shape) -> [Float] in var r = TestRandom(seed: 7); return r.normals(s.count) }
            let ref = try c.run(on: cpu, values: values, upstream: upstream)
            let got = try c.run(on: cl, values: values, upstream: upstream)
            XCTAssertEqual(got.shape, ref.shape, "\(c.name): output shape")
            assertSameResults(got, ref, rel: 1e-5, c.name)
        }
    }

    func testBatchNormRunningStatisticsMatch() throws {
        let cl = try TestBackends.openCL()
        var rng = TestRandom(seed: 3)
        let x = rng.normals(2 * 3 * 4 * 5)
        var results: [[Float]] = []
        for backend in [CPUBackend() as Backend, cl] {
            let running = RunningStats(mean: try backend.full(Shape(3), value: 0.1, name: "rm"),
                                       variance: try backend.full(Shape(3), value: 2, name: "rv"))
            let xt = try backend.upload(x, shape: Shape(2, 3, 4, 5), name: "x")
            _ = try backend.batchNorm(xt, gamma: try backend.full(Shape(3), value: 1, name: "g"),
                                      beta: try backend.full(Shape(3), value: 0, name: "b"), running: running, training: true)
            results.append(try backend.download(running.mean) + backend.download(running.variance))
        }
        assertClose(results[1], results[0], rel: 1e-6, "running statistics")
    }

    func testDropoutMaskIsSeededAndIdenticalAcrossBackends() throws {
        let cl = try TestBackends.openCL()
        let shape = Shape(1000)
        let cpu = CPUBackend()
        func mask(_ b: Backend, _ seed: UInt64) throws -> [Float] {
            let t = try b.allocate(shape, name: "mask")
            try b.dropoutMask(y: t, p: 0.25, seed: seed)
            return try b.download(t)
        }
        let a = try mask(cpu, 42)
        XCTAssertEqual(a, try mask(cl, 42))
        XCTAssertNotEqual(a, try mask(cpu, 43))
        let kept = a.filter { $0 != 0 }.count
        XCTAssertEqual(Double(kept) / 1000, 0.75, accuracy: 0.05)
        XCTAssertTrue(a.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
    }
}

/// The two-stage reductions (partials over many work-groups, then a finishing pass) that only long sums take:
/// shapes just long enough to split (see ReductionSplit), small enough for Oclgrind.
final class LongReductionParityTests: XCTestCase {
    func testTwoStageReductionsMatchCPUReference() throws {
        let cpu = CPUBackend()
        let cl = try TestBackends.openCL(profiling: true)
        let labels = (0..<6000).map { Float(($0 * 7 / 5) % 3) }
        let cases = [
            OpCase("sum all (reduce_keep_middle twice)", [InputSpec(3, 701)]) { t, v in try t.sum(v[0]) },
            OpCase("sum axis (reduce_middle_partial → reduce_middle)", [InputSpec(2, 301, 5)]) { t, v in try t.sum(v[0], axis: 1) },
            OpCase("linear bias gradient over 300 rows (reduce_middle_partial → reduce_middle)", [InputSpec(300, 5), InputSpec(4, 5), InputSpec(4)]) { t, v in
                try t.linear(v[0], weight: v[1], bias: v[2])
            },
            OpCase("layerNorm over 300 rows (norm_column_param_grads → norm_column_param_finish)", [InputSpec(1, 300, 7), InputSpec(7), InputSpec(7)]) { t, v in
                try t.layerNorm(v[0], weight: v[1], bias: v[2])
            },
            OpCase("instanceNorm3d over 3000 voxels (norm_stats_partial → norm_stats_finish, norm_backward_sums → norm_backward_sums_finish)", [InputSpec(1, 2, 10, 12, 25), InputSpec(2), InputSpec(2)]) { t, v in
                try t.instanceNorm(v[0], weight: v[1], bias: v[2])
            },
            OpCase("diceCE over 3000 voxels (dice_sums → reduce_middle)", [InputSpec(2, 3, 10, 10, 30)]) { t, v in
                let y = try t.backend.upload(labels, shape: Shape(2, 1, 10, 10, 30), name: "labels")
                return try t.diceCELoss(v[0], labels: y).loss
            },
        ]
        for (i, c) in cases.enumerated() {
            let values = c.values(seed: UInt64(900 + i))
            let upstream = { (s: Shape) -> [Float] in var g = TestRandom(seed: 13); return g.normals(s.count) }
            _ = try cl.profile(reset: true)
            let got = try c.run(on: cl, values: values, upstream: upstream)
            let ref = try c.run(on: cpu, values: values, upstream: upstream)
            // The name lists the kernels each stage must have run: "first → finishing pass", or "twice" where
            // one kernel does both.
            let stages = String(c.name.split(separator: "(").last!.dropLast())
            let profile = try cl.profile()
            func calls(_ kernel: String) -> Int { profile.first { $0.name == kernel }?.calls ?? 0 }
            for pair in stages.split(separator: ",") {
                let names = pair.split(separator: " ").filter { $0 != "→" && $0 != "twice" }.map(String.init)
                for kernel in names { XCTAssertGreaterThan(calls(kernel), 0, "\(c.name): \(kernel) did not run") }
                if pair.hasSuffix("twice") { XCTAssertEqual(calls(names[0]), 2, "\(c.name): two stages") }
            }
            assertSameResults(got, ref, rel: 1e-5, c.name)
        }
    }

    /// The split is what the kernels above were sized to trigger.
    func testTheseShapesAreSplit() {
        XCTAssertGreaterThan(ReductionSplit.groupSlices(outputs: 1, length: 3 * 701, groupSize: 128), 1)
        XCTAssertGreaterThan(ReductionSplit.columnSlices(outputs: 10, length: 301), 1)
        XCTAssertGreaterThan(ReductionSplit.columnSlices(outputs: 4, length: 300), 1)
        XCTAssertGreaterThan(ReductionSplit.columnSlices(outputs: 7, length: 300), 1)
        XCTAssertGreaterThan(ReductionSplit.groupSlices(outputs: 2, length: 3000, groupSize: 128), 1)
        XCTAssertGreaterThan(ReductionSplit.groupSlices(outputs: 6, length: 3000, groupSize: 128), 1)
        XCTAssertEqual(ReductionSplit.groupSlices(outputs: 110_592, length: 48, groupSize: 128), 1, "LayerNorm rows: one stage")
    }
}

/// Parity on seeded random shapes (odd, non-power-of-two sizes) for the shape-sensitive kernels.
final class RandomShapeParityTests: XCTestCase {
    func testRandomShapes() throws {
        let cpu = CPUBackend()
        let cl = try TestBackends.openCL()
        var rng = TestRandom(seed: 2026)
        func r(_ lo: Int, _ hi: Int) -> Int { lo + Int(rng.next() % UInt64(hi - lo + 1)) }
        var cases: [OpCase] = []
        for _ in 0..<4 {
            let (m, n, k, b) = (r(1, 70), r(1, 70), r(1, 70), r(1, 5))
            cases.append(OpCase("bmm \(b)×\(m)×\(k)×\(n)", [InputSpec(b, m, k), InputSpec(b, k, n)]) { t, v in try t.matmul(v[0], v[1]) })
            let (rows, cols) = (r(1, 300), r(2, 130))
            cases.append(OpCase("layerNorm \(rows)×\(cols)", [InputSpec(rows, cols), InputSpec(cols), InputSpec(cols)]) { t, v in
                try t.layerNorm(v[0], weight: v[1], bias: v[2])
            })
            cases.append(OpCase("softmax \(rows)×\(cols)", [InputSpec(rows, cols)]) { t, v in try t.softmax(v[0]) })
            let (c, o, d, h, w) = (r(1, 5), r(1, 6), r(3, 9), r(3, 9), r(3, 11))
            let (kk, s) = ([1, 2, 3][r(0, 2)], r(1, 2))
            let p = kk == 3 ? r(0, 1) : 0
            cases.append(OpCase("conv3d (\(c),\(d),\(h),\(w)) k\(kk) s\(s) p\(p) →\(o)",
                                [InputSpec(2, c, d, h, w), InputSpec(o, c, kk, kk, kk), InputSpec(o)]) { t, v in
                try t.conv3d(v[0], weight: v[1], bias: v[2], options: .init(stride: s, padding: p))
            })
            cases.append(OpCase("instanceNorm (\(c),\(d),\(h),\(w))", [InputSpec(2, c, d, h, w)]) { t, v in
                try t.instanceNorm(v[0], weight: nil, bias: nil)
            })
            let (ph, pw) = (r(3, 20), r(3, 20))
            cases.append(OpCase("maxPool2d (\(c),\(ph),\(pw))", [InputSpec(2, c, ph, pw, fill: .distinct)]) { t, v in
                try t.maxPool2d(v[0], kernel: (3, 3), stride: (2, 2))
            })
        }
        for (i, c) in cases.enumerated() {
            let values = c.values(seed: UInt64(500 + i))
            let upstream = { (s: Shape) -> [Float] in var g = TestRandom(seed: 11); return g.normals(s.count) }
            let ref = try c.run(on: cpu, values: values, upstream: upstream)
            let got = try c.run(on: cl, values: values, upstream: upstream)
            assertSameResults(got, ref, rel: 1e-5, c.name)
        }
    }
}

/// conv.cl and window_attention.cl built per layer with -D geometry defines (the default) and built once reading
/// the geometry from arguments give the same outputs and gradients, op by op.
final class KernelSpecializationTests: XCTestCase {
    func testDefinesAndArgumentsAgree() throws {
        let fixed = try TestBackends.openCL(profiling: true), generic = try TestBackends.openCL()
        generic.specializeKernels = false
        var specialised = Set<String>()
        for (i, c) in opCases.enumerated() {
            let values = c.values(seed: UInt64(300 + i))
            let upstream = { (s: Shape) -> [Float] in var r = TestRandom(seed: 5); return r.normals(s.count) }
            let a = try c.run(on: fixed, values: values, upstream: upstream)
            let b = try c.run(on: generic, values: values, upstream: upstream)
            assertSameResults(a, b, rel: 1e-6, "\(c.name), defines vs arguments")
            specialised.formUnion(try fixed.profile(reset: true).map(\.name))
        }
        for kernel in ["im2col", "col2im", "window_attention_forward", "window_attention_backward_kv"] {
            XCTAssertTrue(specialised.contains(kernel), "the op cases never ran \(kernel)")
        }
    }
}
