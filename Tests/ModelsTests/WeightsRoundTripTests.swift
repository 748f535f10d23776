import Foundation
import Kernels
import Models
import SafeTensors
import TestSupport
import XCTest

/// Load MONAI's weights, write them back: every tensor's bytes are unchanged, and the config travels.
final class WeightsRoundTripTests: XCTestCase {
    func testFixtureWeightsSurviveARoundTrip() throws {
        let src = try Reference.file("swin_unetr/weights.safetensors")
        let original = try SafeTensorsFile(contentsOf: src)
        let b = CPUBackend()
        let model = try SwinUNETRFile.load(src, configFile: try Reference.file("swin_unetr/config.json"), backend: b)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        try SwinUNETRFile.write(model, to: out, backend: b)
        let written = try SafeTensorsFile(contentsOf: out)
        XCTAssertEqual(Set(written.keys), Set(original.keys))
        for k in original.keys {
            XCTAssertEqual(try written.info(k).dtype, try original.info(k).dtype, k)
            XCTAssertEqual(try written.bytes(k), try original.bytes(k), "bytes of \(k)")
        }
        XCTAssertEqual(written.metadata["format"], SwinUNETRFile.format)
        let again = try SwinUNETRFile.load(out, backend: b)   // config from the metadata
        XCTAssertEqual(again.config, model.config)
    }

    func testCorruptedIndexIsRejected() throws {
        let src = try SafeTensorsFile(contentsOf: try Reference.file("swin_unetr/weights.safetensors"))
        var w = SafeTensorsWriter()
        for k in src.keys {
            let i = try src.info(k)
            var bytes = try src.bytes(k)
            if k == "swinViT.layers2.0.blocks.1.attn.relative_position_index" { bytes[0] = 7 }
            try w.addRaw(k, dtype: i.dtype, shape: i.shape, bytes: bytes)
        }
        let file = try SafeTensorsFile(data: try w.encoded(), name: "tampered.safetensors")
        let b = CPUBackend()
        let model = try SwinUNETR(try SwinUNETRFile.config(weights: file, configFile: try Reference.file("swin_unetr/config.json")),
                                  backend: b)
        XCTAssertThrowsError(try model.load(weights: file, backend: b)) {
            XCTAssertTrue("\($0)".contains("swinViT.layers2.0.blocks.1.attn"), "\($0)")
        }
    }

    func testConfigValidationMirrorsMONAI() throws {
        var c = SwinUNETRConfig(featureSize: 20)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("divisible by 12")) }
        c = SwinUNETRConfig(featureSize: 12)
        XCTAssertThrowsError(try c.checkInput([32, 48, 64])) { XCTAssertTrue("\($0)".contains("[3]"), "\($0)") }
        c.useV2 = true
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("use_v2")) }
    }
}
