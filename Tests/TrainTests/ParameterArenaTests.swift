import Autograd
import Foundation
import Kernels
import Models
import TestSupport
import Train
import TrainingLoop
import XCTest

/// The flat parameter arena: the same training as one tensor per parameter, bit for bit, with one AdamW
/// launch per step; checkpoints keep their per-key tensors.
extension TrainingStepTests {
    func testArenaStepsEqualPerTensorSteps() throws {
        let size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 8)
        for b in try TestBackends.all() {
            let x = try b.upload(data.images, shape: Shape([1, 1] + size), name: "x")
            let y = try b.upload(data.labels, shape: Shape([1, 1] + size), name: "y")
            var runs: [(losses: [[Float]], weights: [[Float]], moments: [[Float]])] = []
            for arena in [false, true] {
                let step = try tinyStep(b, arena: arena)
                let (model, optimizer) = (step.model, step.optimizer)
                let losses = try (0..<3).map { _ in try step.train(x: x, y: y) { true } }
                let keys = model.namedParameters().map(\.0)
                runs.append((losses, try model.namedParameters().map { try b.download($0.1.value) },
                             try keys.flatMap { [try b.download(optimizer.moments[$0]!.m), try b.download(optimizer.moments[$0]!.v)] }))
            }
            XCTAssertEqual(runs[1].losses, runs[0].losses, "losses with and without the arena on \(b.deviceName)")
            XCTAssertTrue(runs[1].weights == runs[0].weights, "weights after 3 steps differ on \(b.deviceName)")
            XCTAssertTrue(runs[1].moments == runs[0].moments, "AdamW moments after 3 steps differ on \(b.deviceName)")
        }
    }

    func testArenaStepIsOneOptimizerLaunch() throws {
        let b = try TestBackends.openCL(profiling: true), size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 9)
        let step = try tinyStep(b, arena: true)
        let x = try b.upload(data.images, shape: Shape([1, 1] + size), name: "x")
        let y = try b.upload(data.labels, shape: Shape([1, 1] + size), name: "y")
        for _ in 0..<2 { _ = try step(x: x, y: y) }
        _ = try b.profile(reset: true)
        let before = b.counters
        _ = try step(x: x, y: y)
        let profile = try b.profile()
        XCTAssertEqual(profile.first { $0.name == "adamw_step" }?.calls, 1, "AdamW is one launch over the arena")
        XCTAssertEqual(b.counters.since(before).allocations, 0, "a warmed-up step creates no device buffer")
    }

    func testArenaCheckpointRoundTrip() throws {
        let b = CPUBackend(), size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 10)
        let x = try b.upload(data.images, shape: Shape([1, 1] + size), name: "x")
        let y = try b.upload(data.labels, shape: Shape([1, 1] + size), name: "y")
        let a = try tinyStep(b)
        try a.optimizer.use(try ParameterArena(a.model.namedParameters(), backend: b))
        _ = try a.train(x: x, y: y) { true }
        var position = RunPosition()
        position.step = 1
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-arena-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try TrainingCheckpoint.write(model: a.model, optimizer: a.optimizer, position: position, options: "{}", to: url, backend: b)
        let next = try a.train(x: x, y: y) { true }
        let c = try tinyStep(b)
        _ = try TrainingCheckpoint.read(url, model: c.model, optimizer: c.optimizer, backend: b)
        try c.optimizer.use(try ParameterArena(c.model.namedParameters(), backend: b))
        XCTAssertEqual(try c.train(x: x, y: y) { true }, next, "a run restored into an arena continues exactly")
        XCTAssertThrowsError(try c.model.namedParameters()[0].1.assign(try b.zeros(c.model.namedParameters()[0].1.value.shape,
                                                                                     name: "w"))) { e in
            XCTAssertTrue("\(e)".contains("parameter arena"), "\(e)")
        }
    }
}

/// A parameter that sits out a step keeps its value in the arena (AdamW skips it, as PyTorch skips a parameter
/// without a gradient), while the others move.
final class ParameterArenaParticipationTests: XCTestCase {
    func testParameterLeftOutOfAStepIsNotUpdated() throws {
        for b in try TestBackends.all() {
            let a = Parameter(try b.upload([0.5, -0.25, 1, 2], shape: Shape(2, 2), name: "a"))
            let c = Parameter(try b.upload([1, 2], shape: Shape(2, 1), name: "c"))
            let params = [("a", a), ("c", c)]
            let optimizer = AdamW(hyper: AdamWHyper(lr: 0.1), backend: b)
            try optimizer.use(try ParameterArena(params, backend: b))
            func step(usingA: Bool) throws {
                let tape = Tape(backend: b)
                let x = tape.input(try b.upload([1, 3], shape: Shape(1, 2), name: "x"))
                let h = usingA ? try tape.matmul(x, a.on(tape)) : x
                let loss = try tape.sum(try tape.matmul(h, c.on(tape)))
                try optimizer.zeroGradients()
                try tape.backward(loss)
                try optimizer.update(params)
            }
            try step(usingA: true)
            let aAfterFirst = try b.download(a.value), cAfterFirst = try b.download(c.value)
            try step(usingA: false)
            XCTAssertEqual(try b.download(a.value), aAfterFirst, "a sat out the second step on \(b.deviceName)")
            XCTAssertNotEqual(try b.download(c.value), cAfterFirst, "c took part and moved on \(b.deviceName)")
        }
    }
}
