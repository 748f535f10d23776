import Autograd
import Kernels
import TestSupport
import XCTest

extension OpCase {
    /// Forward + backward with every input a parameter whose gradient goes to a slot holding `prefill` first (the
    /// parameter arena's rule: gradients are added in place). Returns the slots afterwards: prefill + gradient.
    func runAccumulating(on backend: Backend, values: [[Float]], prefill: [[Float]], upstream: (Shape) -> [Float])
        throws -> [[Float]]
    {
        let tape = Tape(backend: backend)
        let slots = try zip(inputs, prefill).map { spec, p in try backend.upload(p, shape: spec.shape, name: "slot") }
        let vars = try zip(inputs, zip(values, slots)).map { spec, pair in
            tape.parameter(try backend.upload(pair.0, shape: spec.shape, name: "\(name) parameter"), gradientInto: pair.1)
        }
        let out = try build(tape, vars)
        try tape.backward(out, seed: try backend.upload(upstream(out.shape), shape: out.shape, name: "upstream"))
        for v in vars where v.grad != nil {
            XCTAssertTrue(v.grad === slots[vars.firstIndex { $0 === v }!], "\(name): the gradient is not its slot")
        }
        return try slots.map { try backend.download($0) }
    }

    /// Forward + backward with input `frozen` taking no gradient (`tape.input`): the other inputs' gradients.
    func runFrozen(_ frozen: Int, on backend: Backend, values: [[Float]], upstream: (Shape) -> [Float]) throws -> [[Float]?] {
        let tape = Tape(backend: backend)
        let vars = try zip(inputs, values).enumerated().map { i, pair in
            tape.input(try backend.upload(pair.1, shape: pair.0.shape, name: "\(name).input\(i)"), requiresGrad: i != frozen)
        }
        let out = try build(tape, vars)
        guard out.requiresGrad else { return vars.map { _ in nil } }
        try tape.backward(out, seed: try backend.upload(upstream(out.shape), shape: out.shape, name: "upstream"))
        return try vars.map { v in try v.grad.map { try backend.download($0) } }
    }
}

/// The tape's gradient targets (`GradientOutput`) on every op, on both backends: a parameter's gradient is added
/// into its slot by the op itself (GEMMs with beta = 1, reductions that add), and an input that takes no gradient
/// is skipped without changing the others.
final class GradientTargetTests: XCTestCase {
    private let upstream = { (s: Shape) -> [Float] in var r = TestRandom(seed: 17); return r.normals(s.count) }

    func testGradientsAddIntoPrefilledSlots() throws {
        for backend in try TestBackends.all() {
            for (i, c) in opCases.enumerated() {
                let values = c.values(seed: UInt64(700 + i))
                var rng = TestRandom(seed: UInt64(800 + i))
                let prefill = c.inputs.map { rng.normals($0.shape.count) }
                let plain = try c.run(on: backend, values: values, upstream: upstream)
                let slots = try c.runAccumulating(on: backend, values: values, prefill: prefill, upstream: upstream)
                for k in 0..<values.count {
                    let expected = zip(prefill[k], plain.grads[k]).map { $0 + $1 }
                    assertClose(slots[k], expected, rel: 1e-5, "\(c.name) on \(backend.deviceName): slot of input \(k)")
                }
            }
        }
    }

    func testSkippedInputsLeaveTheOtherGradientsAlone() throws {
        for backend in try TestBackends.all() {
            for (i, c) in opCases.enumerated() where c.inputs.count > 1 {
                let values = c.values(seed: UInt64(900 + i))
                let plain = try c.run(on: backend, values: values, upstream: upstream)
                for frozen in 0..<c.inputs.count {
                    let grads = try c.runFrozen(frozen, on: backend, values: values, upstream: upstream)
                    XCTAssertNil(grads[frozen], "\(c.name): the frozen input \(frozen) got a gradient")
                    for k in 0..<values.count where k != frozen {
                        guard let g = grads[k] else { XCTFail("\(c.name): input \(k) lost its gradient"); continue }
                        assertClose(g, plain.grads[k], rel: 1e-6, "\(c.name) on \(backend.deviceName), input \(frozen) frozen: input \(k)")
                    }
                }
            }
        }
    }
}
