import Autograd
import Foundation
import Kernels
import Models
import SafeTensors
import TestSupport
import XCTest

/// MONAI SwinUNETR(feature_size=12) on (1, 1, 32, 32, 64): keys, every hidden state, logits, layer files.
final class SwinUNETRReferenceTests: XCTestCase {
    func file(_ path: String) throws -> SafeTensorsFile { try SafeTensorsFile(contentsOf: try Reference.file("swin_unetr/" + path)) }

    func config() throws -> SwinUNETRConfig {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("swin_unetr/config.json"))) as! [String: Any]
        let args = try JSONSerialization.data(withJSONObject: json["constructor_args"]!)
        return try JSONDecoder().decode(SwinUNETRConfig.self, from: args)
    }

    func model(on backend: Backend) throws -> SwinUNETR {
        let m = try SwinUNETR(try config(), backend: backend)
        try m.load(weights: try file("weights.safetensors"), backend: backend)
        return m
    }

    func testKeyNamesAndShapesMatchMONAI() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("swin_unetr/config.json"))) as! [String: Any]
        let expected = (json["state_dict"] as! [[String: Any]]).map { ($0["key"] as! String, $0["shape"] as! [Int]) }
        let m = try SwinUNETR(try config(), backend: CPUBackend())
        var ours = Dictionary(uniqueKeysWithValues: m.namedParameters().map { ($0.0, $0.1.value.shape.dims) })
        for (k, b) in m.namedBuffers() { ours[k] = b.value.shape.dims }
        XCTAssertEqual(Set(ours.keys), Set(expected.map(\.0)))
        for (k, shape) in expected { XCTAssertEqual(ours[k], shape, k) }
        XCTAssertEqual(m.parameterCount, json["num_parameters"] as? Int)
    }

    func testForwardMatchesEveryHiddenStateAndLogits() throws {
        let fwd = try file("forward.safetensors")
        let input = try file("input.safetensors")
        for b in try TestBackends.all() {
            let m = try model(on: b)
            let tape = Tape(backend: b)
            let x = tape.input(try b.upload(try input.floats("x"), shape: Shape(try input.shape("x")), name: "x"))
            let out = try m.forward(x, tape: tape)
            func check(_ v: Variable, _ key: String) throws {
                try assertClose(v.value, on: b, try fwd.floats(key), shape: Shape(try fwd.shape(key)), rel: 1e-4, "\(key) on \(b.deviceName)")
            }
            for (i, h) in out.hiddenStates.enumerated() { try check(h, "hidden_states_out.\(i)") }
            for (name, v) in out.named { try check(v, name) }
            try check(out.logits, "logits")
        }
    }

    func testShiftMaskRegionsMatchMONAI() throws {
        let f = try file("layers/swinViT.layers1.0.attn_mask.safetensors")
        let g = WindowGeometry(batch: 1, size: [16, 16, 32], channels: 12, window: [7, 7, 7], shift: [3, 3, 3])
        XCTAssertEqual(shiftMaskRegions(g), try f.floats("mask_windows_region_id"))
    }

    /// The per-layer files name the layer that differs.
    func testLayerFiles() throws {
        let weights = try file("weights.safetensors")
        for b in try TestBackends.all() {
            let m = try model(on: b)
            _ = weights
            func io(_ layer: String, input: (String, String), output: (String, String), _ run: (Tape, Variable) throws -> Variable) throws {
                let fi = try file(input.0), fo = try file(output.0)
                let tape = Tape(backend: b)
                let x = tape.input(try b.upload(try fi.floats(input.1), shape: Shape(try fi.shape(input.1)), name: layer))
                try assertClose(try run(tape, x).value, on: b, try fo.floats(output.1), shape: Shape(try fo.shape(output.1)),
                                rel: 1e-4, "\(layer) on \(b.deviceName)")
            }
            let l1 = m.swinViT.layers[0]
            try io("blocks.0", input: ("layers/swinViT.layers1.0.blocks.0.safetensors", "input.0"),
                   output: ("layers/swinViT.layers1.0.blocks.0.safetensors", "output")) { t, x in try l1.blocks[0](x, tape: t) }
            try io("blocks.1 (shifted)", input: ("layers/swinViT.layers1.0.blocks.0.safetensors", "output"),
                   output: ("layers/swinViT.layers1.0.blocks.1.safetensors", "output")) { t, x in try l1.blocks[1](x, tape: t) }
            let g1 = WindowGeometry(batch: 1, size: [16, 16, 32], channels: 12, window: [7, 7, 7], shift: [3, 3, 3])
            try io("layers1 blocks.1.attn (masked)", input: ("layers/swinViT.layers1.0.blocks.1.attn.safetensors", "input.0"),
                   output: ("layers/swinViT.layers1.0.blocks.1.attn.safetensors", "output")) { t, x in
                try l1.blocks[1].attn(windows: x, geometry: g1, tape: t)
            }
            let g3 = WindowGeometry(batch: 1, size: [4, 4, 8], channels: 48, window: [7, 7, 7], shift: [0, 0, 0])
            try io("layers3 attn (clipped window)", input: ("layers/swinViT.layers3.0.blocks.0.attn.safetensors", "input.0"),
                   output: ("layers/swinViT.layers3.0.blocks.0.attn.safetensors", "output")) { t, x in
                try m.swinViT.layers[2].blocks[0].attn(windows: x, geometry: g3, tape: t)
            }
            let g4 = WindowGeometry(batch: 1, size: [2, 2, 4], channels: 96, window: [7, 7, 7], shift: [0, 0, 0])
            try io("layers4 attn", input: ("layers/swinViT.layers4.0.blocks.0.attn.safetensors", "input.0"),
                   output: ("layers/swinViT.layers4.0.blocks.0.attn.safetensors", "output")) { t, x in
                try m.swinViT.layers[3].blocks[0].attn(windows: x, geometry: g4, tape: t)
            }
        }
    }
}
