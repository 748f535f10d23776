import Autograd
import Foundation
import Kernels
import Models
import SafeTensors
import TestSupport
import XCTest

/// torchvision Inception-v3 blocks A–E (eval, train, gradients, BatchNorm buffers), the paper's head,
/// and the full model's state-dict keys and shapes, against `../shared/reference/inception/`.
final class InceptionReferenceTests: XCTestCase {
    func file(_ path: String) throws -> SafeTensorsFile { try SafeTensorsFile(contentsOf: try Reference.file("inception/" + path)) }

    func make(_ name: String, _ b: Backend) throws -> (Module & AnyObject, (Variable, Tape) throws -> Variable, (Bool) -> Void) {
        var r = Initializer(seed: 0)
        switch name {
        case "InceptionA": let m = try InceptionA(16, poolFeatures: 8, backend: b, initializer: &r); return (m, { try m($0, tape: $1) }, { m.training = $0 })
        case "InceptionB": let m = try InceptionB(16, backend: b, initializer: &r); return (m, { try m($0, tape: $1) }, { m.training = $0 })
        case "InceptionC": let m = try InceptionC(16, channels7x7: 8, backend: b, initializer: &r); return (m, { try m($0, tape: $1) }, { m.training = $0 })
        case "InceptionD": let m = try InceptionD(16, backend: b, initializer: &r); return (m, { try m($0, tape: $1) }, { m.training = $0 })
        default: let m = try InceptionE(16, backend: b, initializer: &r); return (m, { try m($0, tape: $1) }, { m.training = $0 })
        }
    }

    func testBlocksMatchTorchvision() throws {
        for b in try TestBackends.all() {
            for name in ["InceptionA", "InceptionB", "InceptionC", "InceptionD", "InceptionE"] {
                let weights = try file("blocks/\(name).weights.safetensors"), io = try file("blocks/\(name).io.safetensors")
                let x = try b.upload(try io.floats("input"), shape: Shape(try io.shape("input")), name: "input")
                let outShape = Shape(try io.shape("output_eval"))
                let (evalBlock, evalRun, _) = try make(name, b)
                try evalBlock.load(from: weights, backend: b)
                let t0 = Tape(backend: b, recording: false)
                try assertClose(try evalRun(t0.input(x), t0).value, on: b, try io.floats("output_eval"), shape: outShape, rel: 1e-4,
                                "\(name) eval on \(b.deviceName)")

                let (m, run, setTraining) = try make(name, b)
                try m.load(from: weights, backend: b)
                setTraining(true)
                let tape = Tape(backend: b)
                let xv = tape.input(x, requiresGrad: true)
                let y = try run(xv, tape)
                try assertClose(y.value, on: b, try io.floats("output_train"), shape: outShape, rel: 1e-4, "\(name) train on \(b.deviceName)")
                try tape.backward(y, seed: try b.upload(try io.floats("R"), shape: outShape, name: "R"))
                assertClose(try b.download(xv.grad!), try io.floats("grad.input"), rel: 1e-3, "\(name) grad.input on \(b.deviceName)")
                for (key, p) in m.namedParameters() {
                    let g = try b.download(p.grad!)
                    if io.tensors["grad." + key] != nil {
                        assertClose(g, try io.floats("grad." + key), rel: 1e-3, "\(name) grad.\(key) on \(b.deviceName)")
                    } else {
                        let head = try io.floats("grad_head8." + key)
                        assertClose(Array(g.prefix(head.count)), head, rel: 1e-3, "\(name) grad_head8.\(key) on \(b.deviceName)")
                    }
                }
                for (key, buf) in m.namedBuffers() {
                    let want = try io.floats("after_train." + key), got = try b.download(buf.value)
                    XCTAssertLessThanOrEqual(zip(got, want).map { abs($0 - $1) }.max() ?? 0, 1e-6, "\(name) after_train.\(key)")
                }
            }
        }
    }

    func testPaperHeadAndFullModelKeys() throws {
        let b = CPUBackend()
        let model = try InceptionV3(classes: 3, auxLogits: false, head: .mlp(dropout: 0.5), backend: b)
        let headWeights = try file("head.weights.safetensors"), io = try file("head.io.safetensors")
        try Container(model.fcLayers.map { ($0.0, $0.1 as Module) }).load(from: headWeights, prefix: "fc.", backend: b)
        // The head alone, on the fixture's pooled features.
        let tape = Tape(backend: b, recording: false)
        var y = tape.input(try b.upload(try io.floats("features"), shape: Shape(try io.shape("features")), name: "features"))
        for (i, l) in model.fcLayers.enumerated() { y = try l.1(y, tape: tape); if i < 2 { y = try tape.relu(y) } }
        assertClose(try b.download(y.value), try io.floats("logits"), rel: 1e-4, "paper head logits")

        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("inception/inception_v3_state_dict_keys.json"))) as! [String: Any]
        let want = (spec["state_dict"] as! [[String: Any]]).map { ($0["key"] as! String, $0["shape"] as! [Int]) }
        let torchvision = try InceptionV3(classes: 1000, auxLogits: true, head: .linear, backend: b)
        var got = torchvision.namedParameters().map { ($0.0, $0.1.value.shape.dims) } + torchvision.namedBuffers().map { ($0.0, $0.1.value.shape.dims) }
        got += torchvision.namedParameters().filter { $0.0.hasSuffix("bn.weight") }.map { (String($0.0.dropLast("weight".count)) + "num_batches_tracked", []) }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: got).mapValues { $0 }, Dictionary(uniqueKeysWithValues: want))
        XCTAssertEqual(torchvision.parameterCount, spec["num_parameters"] as? Int)
    }
}

extension InceptionReferenceTests {
    func testTransformInput() throws {
        let f = try file("transform_input.safetensors")
        for b in try TestBackends.all() {
            let tape = Tape(backend: b, recording: false)
            let x = tape.input(try b.upload(try f.floats("input"), shape: Shape(try f.shape("input")), name: "input"))
            assertClose(try b.download(try InceptionV3.applyTransformInput(x, tape: tape).value), try f.floats("output"), rel: 1e-5,
                        "transform_input on \(b.deviceName)")
        }
    }
}
