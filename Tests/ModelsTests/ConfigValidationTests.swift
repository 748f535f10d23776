import Foundation
import Kernels
import Models
import SafeTensors
import TestSupport
import XCTest

/// Hostile model configs and weights: every bad value is a ConfigError naming the key (and the file it
/// came from), never a trap; weights holding NaN/inf and invalid inference metadata are refused by
/// `segment` and `export`, naming the file.
final class ConfigValidationTests: XCTestCase {
    /// (a change to a valid config, text the error must contain)
    static let badConfigs: [(@Sendable (inout SwinUNETRConfig) -> Void, String)] = [
        ({ $0.numHeads = [0, 6, 12, 24] }, "num_heads"),
        ({ $0.numHeads = [3, -6, 12, 24] }, "num_heads"),
        ({ $0.numHeads = [5, 6, 12, 24] }, "num_heads"),
        ({ $0.numHeads = [3, 6, 12] }, "num_heads"),
        ({ $0.depths = [2, -1, 2, 2] }, "depths"),
        ({ $0.depths = [2, 0, 2, 2] }, "depths"),
        ({ $0.depths = [2, 2, 1000, 2] }, "depths"),
        ({ $0.windowSize = -7 }, "window_size"),
        ({ $0.windowSize = 0 }, "window_size"),
        ({ $0.windowSize = 1000 }, "window_size"),
        ({ $0.mlpRatio = -4 }, "mlp_ratio"),
        ({ $0.mlpRatio = 0 }, "mlp_ratio"),
        ({ $0.mlpRatio = .nan }, "mlp_ratio"),
        ({ $0.mlpRatio = .infinity }, "mlp_ratio"),
        ({ $0.mlpRatio = 1000 }, "mlp_ratio"),
        ({ $0.featureSize = 12 << 20 }, "feature_size"),
        ({ $0.featureSize = -12 }, "feature_size"),
        ({ $0.featureSize = 20 }, "feature_size"),
        ({ $0.inChannels = 0 }, "in_channels"),
        ({ $0.outChannels = -3 }, "out_channels"),
        ({ $0.outChannels = 100_000 }, "out_channels"),
        ({ $0.dropRate = .nan }, "drop_rate"),
    ]

    func testEachBadValueIsAConfigErrorNamingTheKey() {
        XCTAssertNoThrow(try SwinUNETRConfig(featureSize: 12).validate())
        XCTAssertNoThrow(try SwinUNETRConfig(featureSize: 48).validate())
        for (i, (change, key)) in Self.badConfigs.enumerated() {
            var c = SwinUNETRConfig(featureSize: 12)
            change(&c)
            XCTAssertThrowsError(try c.validate(), "case \(i) (\(key))") { e in
                XCTAssertTrue(e is ConfigError, "case \(i): \(type(of: e))")
                XCTAssertTrue("\(e)".contains(key), "case \(i): \(e)")
            }
        }
    }

    /// A weights file with one small tensor and `metadata`.
    func stubWeights(metadata: [String: String] = [:]) throws -> SafeTensorsFile {
        var w = SafeTensorsWriter()
        w.metadata = metadata
        try w.add("x", [0], shape: [1])
        return try SafeTensorsFile(data: try w.encoded(), name: "stub.safetensors")
    }

    /// Config files: a bad value, a wrong type, a missing key, broken JSON — each names the file and the key
    /// in a sentence (no DecodingError dump).
    func testConfigFileErrorsNameTheFileAndTheKey() throws {
        let dir = try temporaryFolder("config-validation")
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try stubWeights()
        let cases: [(String, [String])] = [
            (#"{"in_channels": 1, "out_channels": 3, "feature_size": 12, "num_heads": [0, 6, 12, 24]}"#, ["num_heads"]),
            (#"{"constructor_args": {"in_channels": 1, "out_channels": 3, "feature_size": 12, "depths": [2, -1, 2, 2]}}"#, ["depths"]),
            (#"{"in_channels": 1, "out_channels": 3, "window_size": -7}"#, ["window_size"]),
            (#"{"in_channels": "one", "out_channels": 3}"#, ["in_channels", "should be an integer"]),
            (#"{"in_channels": 1, "out_channels": 3, "depths": [2, 2.5, 2, 2]}"#, ["depths"]),
            (#"{"in_channels": 1, "out_channels": 3, "feature_size": 1e30}"#, ["feature_size"]),
            (#"{"out_channels": 3}"#, ["missing key 'in_channels'"]),
            (#"{"in_channels": null, "out_channels": 3}"#, ["in_channels", "is null"]),
            (#"{"in_channels": 1, "out_channels": 3, "mlp_ratio": "nan"}"#, ["mlp_ratio", "should be a number"]),
            (#"{"in_channels": 1, "#, ["not valid JSON"]),
            (#"[1, 2]"#, ["not a JSON object"]),
        ]
        for (i, (json, expected)) in cases.enumerated() {
            let url = dir.appendingPathComponent("config\(i).json")
            try json.write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try SwinUNETRFile.config(weights: weights, configFile: url), json) { e in
                let text = "\(e)"
                XCTAssertTrue(text.hasPrefix(url.path + ": "), "\(json): \(text)")
                for s in expected { XCTAssertTrue(text.contains(s), "\(json): \(text)") }
                XCTAssertFalse(text.contains("CodingKeys") || text.contains("DecodingError"), text)
            }
        }
        XCTAssertThrowsError(try SwinUNETRFile.config(weights: weights, configFile: dir.appendingPathComponent("none.json"))) {
            XCTAssertTrue("\($0)".contains("none.json"), "\($0)")
        }
    }

    /// The config in a weights file's metadata is validated too, naming the weights file.
    func testMetadataConfigIsValidated() throws {
        let weights = try stubWeights(metadata: ["config": #"{"in_channels": 1, "out_channels": 3, "feature_size": 12, "num_heads": [3, 0, 12, 24]}"#])
        XCTAssertThrowsError(try SwinUNETRFile.config(weights: weights, configFile: nil)) {
            XCTAssertTrue("\($0)".hasPrefix("stub.safetensors (metadata 'config'): num_heads"), "\($0)")
        }
    }

    /// Writes a feature-12 Swin UNETR and returns its weights file; `poison` puts 3 NaN/inf values into one tensor.
    func writeWeights(to url: URL, metadata: [String: String] = [:], poison: String? = nil) throws {
        let b = CPUBackend()
        let model = try SwinUNETR(SwinUNETRConfig(featureSize: 12), backend: b)
        try SwinUNETRFile.write(model, to: url, backend: b, metadata: metadata)
        guard let poison else { return }
        let file = try SafeTensorsFile(contentsOf: url)
        var w = SafeTensorsWriter()
        w.metadata = file.metadata
        for k in file.keys {
            let i = try file.info(k)
            if k == poison {
                var v = try file.floats(k)
                v[0] = .nan; v[1] = .infinity; v[v.count - 1] = -.infinity
                try w.add(k, v, shape: i.shape)
            } else {
                try w.addRaw(k, dtype: i.dtype, shape: i.shape, bytes: try file.bytes(k))
            }
        }
        try w.write(to: url)
    }

    static let poisoned = "swinViT.layers1.0.blocks.0.attn.qkv.weight"

    func testNaNWeightsAreRefusedOnLoad() throws {
        let dir = try temporaryFolder("nan-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("W.safetensors")
        try writeWeights(to: url, poison: Self.poisoned)
        XCTAssertThrowsError(try SwinUNETRFile.load(url, backend: CPUBackend())) {
            XCTAssertTrue("\($0)".contains("\(url.path): tensor \(Self.poisoned) holds 3 NaN/inf values"), "\($0)")
        }
    }

    /// `segment` with NaN weights: an error naming the file and the tensor (it used to write an all-background mask, exit 0).
    func testSegmentRefusesNaNWeights() throws {
        let dir = try temporaryFolder("segment-nan")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("W.safetensors")
        try writeWeights(to: url, metadata: ["spacing": "8.0,8.0,8.0", "roi": "64,32,32"], poison: Self.poisoned)
        let r = try runSwinLiver(["segment", dir.appendingPathComponent("ct.nii.gz").path, "--weights", url.path,
                                  "--out", dir.appendingPathComponent("mask.nii.gz").path, "--device", "cpu"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(url.path): tensor \(Self.poisoned) holds 3 NaN/inf values"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }

    /// Invalid `spacing` / `roi` metadata: `segment` refuses it naming the file, `export` refuses to copy it.
    func testInvalidInferenceMetadataIsRefused() throws {
        let dir = try temporaryFolder("bad-metadata")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (key, value) in [("spacing", "1e-300"), ("spacing", "inf,1,1"), ("spacing", "1.5,abc,2"), ("roi", "100000"), ("roi", "32"),
                             ("roi", "-64")] {
            let url = dir.appendingPathComponent("W.safetensors"), out = dir.appendingPathComponent("E.safetensors")
            var metadata = ["spacing": "1.5,1.5,2.0", "roi": "96,96,96"]
            metadata[key] = value
            try writeWeights(to: url, metadata: metadata)
            let e = try runSwinLiver(["export", url.path, "--out", out.path])
            XCTAssertEqual(e.status, 1, "\(key)=\(value): \(e.stderr)")
            XCTAssertTrue(e.stderr.contains("\(url.path): metadata '\(key)' \(value)"), "\(key)=\(value): \(e.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(key)=\(value): export wrote the file")
            let s = try runSwinLiver(["segment", dir.appendingPathComponent("ct.nii.gz").path, "--weights", url.path,
                                      "--out", dir.appendingPathComponent("mask.nii.gz").path, "--device", "cpu"])
            XCTAssertEqual(s.status, 1, "\(key)=\(value): \(s.stderr)")
            XCTAssertTrue(s.stderr.contains("\(url.path): metadata '\(key)'"), "\(key)=\(value): \(s.stderr)")
            XCTAssertFalse(s.stderr.contains("Fatal error") || e.stderr.contains("Fatal error"))
        }
        // Valid metadata is exported as before.
        let url = dir.appendingPathComponent("W.safetensors"), out = dir.appendingPathComponent("E.safetensors")
        try writeWeights(to: url, metadata: ["spacing": "8.0,8.0,8.0", "roi": "64,32,32"])
        let ok = try runSwinLiver(["export", url.path, "--out", out.path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: out).metadata["roi"], "64,32,32")
    }

    /// `debug forward --config C.json` with a bad value: the error names C.json and the key.
    func testConfigFileErrorThroughTheCLI() throws {
        let dir = try temporaryFolder("config-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("W.safetensors"), config = dir.appendingPathComponent("C.json")
        try writeWeights(to: url)
        try #"{"in_channels": 1, "out_channels": 3, "feature_size": 12, "num_heads": [0, 6, 12, 24]}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let r = try runSwinLiver(["debug", "forward", "--weights", url.path, "--config", config.path, "--input", "x.safetensors",
                                  "--output", dir.appendingPathComponent("y.safetensors").path, "--device", "cpu"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(config.path): num_heads"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }
}
