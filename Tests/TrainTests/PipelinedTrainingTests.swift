import Foundation
import Kernels
import Models
import TestSupport
import Train
import TrainingLoop
import XCTest

/// Training that reads each loss one step late: the same numbers as the step-by-step trainer, one blocking host
/// call per step, and a NaN still stops the run before the weights change.
extension TrainingStepTests {
    func testPipelinedStepsEqualSynchronousSteps() throws {
        let size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 11), shape = Shape([1, 1] + size)
        for b in try TestBackends.all() {
            let sync = try tinyStep(b, arena: true)
            let x = try b.upload(data.images, shape: shape, name: "x"), y = try b.upload(data.labels, shape: shape, name: "y")
            let expected = try (0..<3).map { _ in try sync.train(x: x, y: y) { true } }
            let piped = try PipelinedTraining(step: try tinyStep(b, arena: true))
            var got: [(index: Int, values: [Float])] = []
            for _ in 0..<3 {
                if let r = try piped(images: data.images, labels: data.labels, imageShape: shape, labelShape: shape) { true } {
                    got.append(r)
                }
            }
            got.append(try XCTUnwrap(try piped.finish()))
            XCTAssertEqual(got.map(\.index), [0, 1, 2])
            XCTAssertEqual(got.map(\.values), expected, "pipelined losses on \(b.deviceName)")
            XCTAssertTrue(try zip(sync.model.namedParameters(), piped.step.model.namedParameters()).allSatisfy {
                try b.download($0.1.value) == b.download($1.1.value)
            }, "weights after 3 steps on \(b.deviceName)")
        }
    }

    func testPipelinedNaNStopsBeforeTheWeightsChange() throws {
        let size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 12), shape = Shape([1, 1] + size)
        var bad = data.images
        bad[100] = .nan
        for b in try TestBackends.all() {
            let piped = try PipelinedTraining(step: try tinyStep(b, arena: true))
            let model = piped.step.model
            XCTAssertNil(try piped(images: data.images, labels: data.labels, imageShape: shape, labelShape: shape) { true })
            let afterFirst = try b.download(model.namedParameters()[0].1.value)
            XCTAssertEqual(try piped(images: bad, labels: data.labels, imageShape: shape, labelShape: shape) { false }?.index, 0)
            XCTAssertThrowsError(try piped(images: data.images, labels: data.labels, imageShape: shape, labelShape: shape) { true }) { e in
                XCTAssertTrue("\(e)".contains("at step 1") && "\(e)".contains("NaN or inf voxels"), "\(e)")
            }
            XCTAssertEqual(try b.download(model.namedParameters()[0].1.value), afterFirst,
                           "the NaN step and the one after it must not change the weights on \(b.deviceName)")
        }
    }

    func testPipelinedStepBlocksOnceAndAllocatesNothing() throws {
        let b = try TestBackends.openCL(), size = [64, 32, 32], data = blobs(count: 1, size: size, seed: 13)
        let shape = Shape([1, 1] + size), piped = try PipelinedTraining(step: try tinyStep(b, arena: true))
        for _ in 0..<2 { _ = try piped(images: data.images, labels: data.labels, imageShape: shape, labelShape: shape) { true } }
        let before = b.counters
        for _ in 0..<3 { _ = try piped(images: data.images, labels: data.labels, imageShape: shape, labelShape: shape) { true } }
        let used = b.counters.since(before)
        XCTAssertEqual(used.blockingCalls, 3, "one wait per step (the previous step's loss)")
        XCTAssertEqual(used.allocations, 0)
        XCTAssertEqual(used.bytesToDevice, 3 * 2 * data.images.count * 4, "the batch, written every step")
        XCTAssertEqual(used.bytesFromDevice, 3 * 3 * 4, "the three loss values, read every step")
    }
}

/// The device check: the OpenCL backend's train step equals the CPU backend's within float32 reordering, and the
/// comparison does fail when held to a bound no float32 run can meet.
final class BackendParityTests: XCTestCase {
    func testOpenCLTrainStepMatchesTheCPUBackend() throws {
        let cl = try TestBackends.openCL()
        var config = SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: 12)
        config.depths = [1, 1, 1, 1]
        let report = try BackendParity.trainStep(config: config, size: [64, 32, 32], batch: 1, seed: 3, reference: CPUBackend(),
                                                 reordered: CPUBackend(cores: 1), device: cl)
        XCTAssertEqual(report.rows.count, 2 + 2 * (try SwinUNETR(config, backend: CPUBackend())).namedParameters().count, "logits, loss, every gradient and every parameter after one AdamW step")
        XCTAssertTrue(report.passed, "worst \(report.worst.name) \(report.worst.relative), bound \(report.tolerance)")
        XCTAssertNotNil(report.reorderNoise)
        let strict = try BackendParity.trainStep(config: config, size: [64, 32, 32], batch: 1, seed: 3, reference: CPUBackend(),
                                                 reordered: nil, device: cl, tolerance: 1e-12)
        XCTAssertFalse(strict.passed, "float32 runs on two backends cannot agree to 1e-12 everywhere")
        XCTAssertGreaterThan(strict.worst.relative, 1e-12)
    }
}
