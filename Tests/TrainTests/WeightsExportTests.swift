import Foundation
import Kernels
import Models
import SafeTensors
import TestSupport
import Train
import TrainingLoop
import XCTest

/// `export` as a library: a training checkpoint becomes inference weights with the run's settings, without the
/// optimiser state; a checkpoint of something else is refused naming the file.
final class WeightsExportTests: XCTestCase {
    func testCheckpointBecomesInferenceWeights() throws {
        let dir = try temporaryFolder("export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = CPUBackend()
        var o = FineTuneOptions()
        o.featureSize = 12; o.roi = [64, 32, 32]; o.spacing = [4, 4, 4]
        let model = try SwinUNETR(SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: 12), backend: b, seed: 3)
        let optimizer = AdamW(hyper: AdamWHyper(lr: 1e-3), backend: b)
        let checkpoint = dir.appendingPathComponent("checkpoint.safetensors"), out = dir.appendingPathComponent("W.safetensors")
        try TrainingCheckpoint.write(model: model, optimizer: optimizer, position: RunPosition(), options: try o.json(), to: checkpoint, backend: b)
        try WeightsExport.export(checkpoint, to: out, backend: b)

        let file = try SafeTensorsFile(contentsOf: out)
        XCTAssertFalse(file.keys.contains { $0.hasPrefix("optimizer.") || $0.hasPrefix("extra.") })
        XCTAssertEqual(try InferenceSettings.read(out), InferenceSettings(spacing: [4, 4, 4], roi: [64, 32, 32], overlap: o.overlap))
        let loaded = try SwinUNETRFile.load(out, backend: b)
        let key = "out.conv.conv.weight"
        let want = try b.download(try XCTUnwrap(model.namedParameters().first { $0.0 == key }?.1.value))
        XCTAssertEqual(try b.download(try XCTUnwrap(loaded.namedParameters().first { $0.0 == key }?.1.value)), want)

        var w = SafeTensorsWriter()
        w.metadata = ["format": TrainingCheckpoint.format, "options": "{\"tasks\": 3}", "position": "{}", "optimizer": "{}"]
        try w.add("x", [1], shape: [1])
        try w.write(to: checkpoint)
        XCTAssertThrowsError(try WeightsExport.export(checkpoint, to: out, backend: b)) {
            XCTAssertTrue("\($0)".contains("\(checkpoint.path): not a `train` checkpoint"), "\($0)")
        }
    }
}
