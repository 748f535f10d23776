import Autograd
import Kernels
import Models
import SafeTensors
import TestSupport
import XCTest

/// Single layers against the golden files of ../shared/reference (MONAI / torchvision), on both backends.
final class ReferenceLayerTests: XCTestCase {
    func backends() throws -> [Backend] { try TestBackends.all() }

    func file(_ path: String) throws -> SafeTensorsFile { try SafeTensorsFile(contentsOf: try Reference.file(path)) }

    /// Reads a layer input/output as `layers/index.json` points to it.
    func layerTensor(_ layer: String, _ role: String) throws -> (values: [Float], shape: Shape) {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("swin_unetr/layers/index.json")))
        guard let entry = (index as? [String: Any])?[layer] as? [String: Any],
              let list = entry[role == "output" ? "outputs" : "inputs"] as? [[String: Any]],
              let ref = list.first, let f = ref["file"] as? String, let key = ref["key"] as? String
        else { throw ShapeError(op: "reference", "no \(role) for \(layer) in index.json") }
        let st = try file("swin_unetr/layers/" + f)
        return (try st.floats(key), Shape(try st.shape(key)))
    }

    func run(_ layer: String, _ build: (Backend, Tape, Variable) throws -> Variable) throws {
        let input = try layerTensor(layer, "input"), output = try layerTensor(layer, "output")
        for b in try backends() {
            let tape = Tape(backend: b)
            let y = try build(b, tape, tape.input(try b.upload(input.values, shape: input.shape, name: "\(layer) input")))
            try assertClose(y.value, on: b, output.values, shape: output.shape, rel: 1e-4, "\(layer) on \(b.deviceName)")
        }
    }

    func testInstanceNorm3d() throws {
        try run("decoder3.conv_block.norm1") { b, tape, x in try InstanceNorm3d(24, backend: b)(x, tape: tape) }
    }

    func testLayerNorm() throws {
        let w = try file("swin_unetr/weights.safetensors")
        try run("swinViT.layers2.0.blocks.0.norm1") { b, tape, x in
            let ln = try LayerNorm(24, backend: b)
            try ln.load(from: w, prefix: "swinViT.layers2.0.blocks.0.norm1.", backend: b)
            return try ln(x, tape: tape)
        }
    }

    func testConvTranspose3d() throws {
        let w = try file("swin_unetr/weights.safetensors")
        try run("decoder3.transp_conv.conv") { b, tape, x in
            var rng = Initializer(seed: 0)
            let conv = try ConvTranspose3d(48, 24, kernel: 2, stride: 2, bias: false, backend: b, initializer: &rng)
            try conv.load(from: w, prefix: "decoder3.transp_conv.conv.", backend: b)
            return try conv(x, tape: tape)
        }
    }

    func testPatchEmbedConv3d() throws {
        let w = try file("swin_unetr/weights.safetensors")
        try run("swinViT.patch_embed") { b, tape, x in
            var rng = Initializer(seed: 0)
            let conv = try Conv3d(1, 12, kernel: 2, stride: 2, backend: b, initializer: &rng)
            try conv.load(from: w, prefix: "swinViT.patch_embed.proj.", backend: b)
            return try conv(x, tape: tape)
        }
    }

    func testOutputHeadConv1x1x1() throws {
        let w = try file("swin_unetr/weights.safetensors")
        try run("out") { b, tape, x in
            var rng = Initializer(seed: 0)
            let conv = try Conv3d(12, 3, kernel: 1, backend: b, initializer: &rng)
            try conv.load(from: w, prefix: "out.conv.conv.", backend: b)
            return try conv(x, tape: tape)
        }
    }

    func testMLPBlockLinearGELULinear() throws {
        let w = try file("swin_unetr/weights.safetensors")
        try run("swinViT.layers2.0.blocks.0.mlp") { b, tape, x in
            var rng = Initializer(seed: 0)
            let l1 = try Linear(24, 96, backend: b, initializer: &rng), l2 = try Linear(96, 24, backend: b, initializer: &rng)
            try l1.load(from: w, prefix: "swinViT.layers2.0.blocks.0.mlp.linear1.", backend: b)
            try l2.load(from: w, prefix: "swinViT.layers2.0.blocks.0.mlp.linear2.", backend: b)
            return try l2(try tape.gelu(try l1(x, tape: tape)), tape: tape)
        }
    }

    /// torchvision BasicConv2d(16, 24, kernel_size=3, stride=2): eval, train, gradients, running statistics.
    func testInceptionBasicConv2d() throws {
        let weights = try file("inception/blocks/BasicConv2d.weights.safetensors")
        let io = try file("inception/blocks/BasicConv2d.io.safetensors")
        for b in try backends() {
            func block() throws -> BasicConv2d {
                var rng = Initializer(seed: 0)
                let m = try BasicConv2d(16, 24, kernel: (3, 3), stride: (2, 2), backend: b, initializer: &rng)
                try m.load(from: weights, backend: b)
                return m
            }
            let x = try b.upload(try io.floats("input"), shape: Shape(try io.shape("input")), name: "input")
            let outShape = Shape(try io.shape("output_eval"))
            let evalBlock = try block()
            let tape0 = Tape(backend: b)
            try assertClose(try evalBlock(tape0.input(x), tape: tape0).value, on: b, try io.floats("output_eval"),
                            shape: outShape, rel: 1e-4, "BasicConv2d eval on \(b.deviceName)")

            let m = try block()
            m.training = true
            let tape = Tape(backend: b)
            let xv = tape.input(x, requiresGrad: true)
            let y = try m(xv, tape: tape)
            try assertClose(y.value, on: b, try io.floats("output_train"), shape: outShape, rel: 1e-4,
                            "BasicConv2d train on \(b.deviceName)")
            try tape.backward(y, seed: try b.upload(try io.floats("R"), shape: outShape, name: "R"))
            assertClose(try b.download(xv.grad!), try io.floats("grad.input"), rel: 1e-3, "grad.input on \(b.deviceName)")
            for (key, p) in m.namedParameters() {
                assertClose(try b.download(p.grad!), try io.floats("grad." + key), rel: 1e-3, "grad.\(key) on \(b.deviceName)")
            }
            for (key, buf) in m.namedBuffers() {
                let expected = try io.floats("after_train." + key)
                let got = try b.download(buf.value)
                for i in expected.indices { XCTAssertEqual(got[i], expected[i], accuracy: 1e-6, "after_train.\(key)[\(i)]") }
            }
            XCTAssertEqual(m.bn.batchesTracked, Int(try io.integers("after_train.bn.num_batches_tracked")[0]))
        }
    }

    func testStrictLoadingListsEveryProblem() throws {
        let w = try file("swin_unetr/weights.safetensors")
        let b = CPUBackend()
        var rng = Initializer(seed: 0)
        let wrong = try Conv3d(1, 12, kernel: 3, stride: 2, backend: b, initializer: &rng)
        XCTAssertThrowsError(try wrong.load(from: w, prefix: "swinViT.patch_embed.proj.", backend: b)) { error in
            XCTAssertTrue("\(error)".contains("swinViT.patch_embed.proj.weight file [12, 1, 2, 2, 2] model (12, 1, 3, 3, 3)"), "\(error)")
        }
        let ln = try LayerNorm(24, backend: b)
        XCTAssertThrowsError(try ln.load(from: w, prefix: "swinViT.layers2.0.blocks.0.", backend: b)) { error in
            XCTAssertTrue("\(error)".contains("missing keys: swinViT.layers2.0.blocks.0.weight"), "\(error)")
            XCTAssertTrue("\(error)".contains("unexpected keys:"), "\(error)")
        }
    }
}
