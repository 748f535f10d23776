import Autograd
import Foundation
import Kernels
import Models
import SafeTensors
import SeededRandom
import TestSupport
import Train
import TrainingLoop
import XCTest

/// Pretraining and fine-tuning steps on a tiny Swin UNETR: the loss falls on both backends; a NaN
/// input stops the step before any weight changes; checkpoints restore the optimiser exactly.
final class TrainingStepTests: XCTestCase {
    /// feature 12, one block per stage: small enough for PoCL in a test.
    func tinyConfig() -> SwinUNETRConfig {
        var c = SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: 12)
        c.depths = [1, 1, 1, 1]
        return c
    }

    /// A fine-tuning step on the tiny model (seed 2) with AdamW at `lr`; its parameters in an arena when `arena`.
    func tinyStep(_ b: Backend, lr: Float = 1e-3, arena: Bool = false) throws -> SegmentationStep {
        let model = try SwinUNETR(tinyConfig(), backend: b, seed: 2)
        let optimizer = AdamW(hyper: AdamWHyper(lr: lr), backend: b)
        if arena { try optimizer.use(try ParameterArena(model.namedParameters(), backend: b)) }
        return SegmentationStep(model: model, optimizer: optimizer, backend: b)
    }

    /// A smooth blob volume (C = 1) with a brighter core, values in [0, 1].
    func blobs(count: Int, size: [Int], seed: UInt64) -> (images: [Float], labels: [Float]) {
        var rng = SplitMix64(seed: seed)
        var images: [Float] = [], labels: [Float] = []
        for _ in 0..<count {
            let c = size.map { Double($0) * rng.uniform(0.35, 0.65) }
            let r = Double(size.min()!) * rng.uniform(0.25, 0.35)
            for a in 0..<size[0] { for b in 0..<size[1] { for d in 0..<size[2] {
                let dist = ((Double(a) - c[0]) * (Double(a) - c[0]) + (Double(b) - c[1]) * (Double(b) - c[1])
                            + (Double(d) - c[2]) * (Double(d) - c[2])).squareRoot()
                let label: Float = dist < r * 0.4 ? 2 : (dist < r ? 1 : 0)
                labels.append(label)
                images.append(0.2 + 0.3 * label + Float(rng.uniform(-0.05, 0.05)))
            } } }
        }
        return (images, labels)
    }

    func testPretrainingLossFallsOnBothBackends() throws {
        let size = [64, 32, 32]
        let data = blobs(count: 2, size: size, seed: 3)
        for b in try TestBackends.all() {
            let model = try SSLHead(tinyConfig(), projection: 32, backend: b, seed: 1)
            let step = try PretrainStep(model: model, optimizer: AdamW(hyper: AdamWHyper(lr: 2e-3), backend: b), backend: b,
                                        tasks: Set(PretrainTask.allCases))
            var losses: [[Float]] = []
            for _ in 0..<4 {
                var rng = SplitMix64(seed: 11)   // the same views every step: the loss must fall
                losses.append(try step(images: data.images, count: 2, size: size, rng: &rng))
            }
            XCTAssertTrue(losses.allSatisfy { $0.allSatisfy(\.isFinite) && $0[1] > 0 && $0[2] > 0 && $0[3] > 0 }, "\(losses)")
            XCTAssertLessThan(losses.last![0], losses.first![0] * 0.9, "pretraining loss on \(b.deviceName): \(losses.map { $0[0] })")
        }
    }

    func testEachTaskSubsetRunsOnlyItsHeads() throws {
        let size = [64, 32, 32], data = blobs(count: 2, size: size, seed: 4), b = CPUBackend()
        for tasks: Set<PretrainTask> in [[.inpaint], [.flip, .contrast]] {
            let model = try SSLHead(tinyConfig(), projection: 16, backend: b, seed: 1)
            let step = try PretrainStep(model: model, optimizer: AdamW(hyper: AdamWHyper(lr: 1e-3), backend: b), backend: b, tasks: tasks)
            var rng = SplitMix64(seed: 1)
            let l = try step(images: data.images, count: 2, size: size, rng: &rng)
            for (i, t) in PretrainTask.allCases.enumerated() {
                XCTAssertEqual(l[i + 1] != 0, tasks.contains(t), "\(tasks): \(l)")
            }
            let grads = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.grad != nil) })
            XCTAssertEqual(grads["conv.0.weight"], tasks.contains(.inpaint))
            XCTAssertEqual(grads["rotation_head.weight"], tasks.contains(.flip))
            XCTAssertEqual(grads["contrastive_head.weight"], tasks.contains(.contrast))
            XCTAssertEqual(grads["swinViT.patch_embed.proj.weight"], true)
        }
        XCTAssertThrowsError(try PretrainStep(model: SSLHead(tinyConfig(), backend: b), optimizer: AdamW(hyper: AdamWHyper(lr: 1), backend: b),
                                              backend: b, tasks: []))
        XCTAssertThrowsError(try PretrainTask.parse("inpaint,rotate")) { XCTAssertTrue("\($0)".contains("rotate")) }
        XCTAssertEqual(try PretrainTask.parse("none"), [])
    }

    func testFineTuningLossFallsOnBothBackends() throws {
        let size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 5)
        for b in try TestBackends.all() {
            let model = try SwinUNETR(tinyConfig(), backend: b, seed: 2)
            let step = SegmentationStep(model: model, optimizer: AdamW(hyper: AdamWHyper(lr: 2e-3), backend: b), backend: b)
            let x = try b.upload(data.images, shape: Shape([1, 1] + size), name: "x")
            let y = try b.upload(data.labels, shape: Shape([1, 1] + size), name: "y")
            var losses: [Float] = []
            for _ in 0..<4 { losses.append(try step.train(x: x, y: y) { true }[0]) }
            XCTAssertLessThan(losses.last!, losses.first! * 0.9, "fine-tuning loss on \(b.deviceName): \(losses)")
        }
    }

    func testNonFiniteLossStopsBeforeTheUpdate() throws {
        let b = CPUBackend(), size = [64, 32, 32]
        var data = blobs(count: 1, size: size, seed: 6)
        data.images[100] = .nan
        let model = try SwinUNETR(tinyConfig(), backend: b, seed: 2)
        let before = try b.download(model.namedParameters()[0].1.value)
        let step = SegmentationStep(model: model, optimizer: AdamW(hyper: AdamWHyper(lr: 1e-3), backend: b), backend: b)
        let x = try b.upload(data.images, shape: Shape([1, 1] + size), name: "x")
        let y = try b.upload(data.labels, shape: Shape([1, 1] + size), name: "y")
        XCTAssertThrowsError(try step.train(x: x, y: y) { data.images.allSatisfy(\.isFinite) }) { e in
            XCTAssertTrue(e is NonFiniteLoss && "\(e)".contains("NaN or inf voxels"), "\(e)")
        }
        XCTAssertEqual(try b.download(model.namedParameters()[0].1.value), before, "weights changed after a NaN loss")
        XCTAssertEqual(step.optimizer.step, 0)
    }

    func testWarmupCosineSchedule() {
        let s = WarmupCosine(peak: 1e-3, warmup: 4, total: 20)
        XCTAssertEqual(s.rate(at: 0), 1e-3 / 5, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 3), 4e-3 / 5, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 4), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 12), 5e-4, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 20), 0, accuracy: 1e-12)
        XCTAssertTrue((5..<20).allSatisfy { s.rate(at: $0) < s.rate(at: $0 - 1) })
    }

    func testCheckpointRestoresModelAndOptimizer() throws {
        let b = CPUBackend(), size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 7)
        let x = try b.upload(data.images, shape: Shape([1, 1] + size), name: "x")
        let y = try b.upload(data.labels, shape: Shape([1, 1] + size), name: "y")
        let a = try tinyStep(b)
        _ = try a.train(x: x, y: y) { true }
        var position = RunPosition()
        position.step = 1
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-ckpt-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try TrainingCheckpoint.write(model: a.model, optimizer: a.optimizer, position: position, options: "{\"k\":1}", to: url, backend: b)
        let next = try a.train(x: x, y: y) { true }
        let c = try tinyStep(b)
        let (p, o) = try TrainingCheckpoint.read(url, model: c.model, optimizer: c.optimizer, backend: b)
        XCTAssertEqual(p, position)
        XCTAssertEqual(o, "{\"k\":1}")
        XCTAssertEqual(c.optimizer.step, 1)
        XCTAssertEqual(try c.train(x: x, y: y) { true }, next, "a restored run must continue exactly")
    }
}
