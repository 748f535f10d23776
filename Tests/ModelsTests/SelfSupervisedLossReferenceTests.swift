import Autograd
import Foundation
import Kernels
import SafeTensors
import TestSupport
import XCTest

/// `losses/` fixture: sigmoid Dice, NT-Xent contrastive, L1, cross-entropy with label smoothing and the
/// 4-class flip cross-entropy — values and gradients on both backends.
final class SelfSupervisedLossReferenceTests: XCTestCase {
    private func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("losses/losses.json"))) as! [String: Any]
    }

    private func value(_ any: Any?) -> Float { Float((any as! NSNumber).doubleValue) }

    private func leaf(_ f: SafeTensorsFile, _ key: String, _ tape: Tape, grad: Bool) throws -> Variable {
        tape.input(try tape.backend.upload(try f.floats(key), shape: Shape(try f.shape(key)), name: key), requiresGrad: grad)
    }

    private func check(_ loss: Variable, _ want: Float, grads: [(Variable, [Float], String)], tape: Tape) throws {
        let b = tape.backend
        let got = try b.download(loss.value)[0]
        XCTAssertEqual(got, want, accuracy: abs(want) * 1e-5 + 1e-6, "\(grads[0].2) loss on \(b.deviceName)")
        try tape.backward(loss)
        for (v, expected, name) in grads {
            assertClose(try b.download(v.grad!), expected, rel: 1e-4, "\(name) on \(b.deviceName)")
        }
    }

    func testSelfSupervisedAndClassificationLosses() throws {
        let f = try SafeTensorsFile(contentsOf: try Reference.file("losses/selfsup.safetensors"))
        let want = try json()["selfsup"] as! [String: [String: Any]]
        for b in try TestBackends.all() {
            var tape = Tape(backend: b)
            let i = try leaf(f, "contrastive.input", tape, grad: true), t = try leaf(f, "contrastive.target", tape, grad: true)
            try check(try tape.contrastiveLoss(i, t, temperature: 0.5), value(want["contrastive"]!["loss"]),
                      grads: [(i, try f.floats("contrastive.grad_input"), "contrastive input"),
                              (t, try f.floats("contrastive.grad_target"), "contrastive target")], tape: tape)

            tape = Tape(backend: b)
            let r = try leaf(f, "l1.recon", tape, grad: true), target = try leaf(f, "l1.target", tape, grad: false)
            try check(try tape.l1Loss(r, target), value(want["l1"]!["loss"]),
                      grads: [(r, try f.floats("l1.grad_recon"), "L1")], tape: tape)

            for (name, smoothing) in [("ce_smooth", Float(0.1)), ("ce_flip", 0)] {
                tape = Tape(backend: b)
                let logits = try leaf(f, "\(name).logits", tape, grad: true)
                let classes = try f.integers("\(name).target").map { Int($0) }
                try check(try tape.crossEntropy(logits, classes: classes, smoothing: smoothing), value(want[name]!["loss"]),
                          grads: [(logits, try f.floats("\(name).grad_logits"), name)], tape: tape)
            }
        }
    }

    func testSigmoidDice() throws {
        let f = try SafeTensorsFile(contentsOf: try Reference.file("losses/dice_sigmoid.safetensors"))
        let want = try json()["dice_sigmoid"] as! [String: Any]
        for b in try TestBackends.all() {
            let tape = Tape(backend: b)
            let logits = try leaf(f, "logits", tape, grad: true)
            let target = try b.upload(try f.floats("target"), shape: Shape(try f.shape("target")), name: "target")
            try check(try tape.sigmoidDiceLoss(logits, target: target), value(want["loss"]),
                      grads: [(logits, try f.floats("grad_logits"), "sigmoid Dice")], tape: tape)
        }
    }

    func testBadClassIdsAndShapesAreNamed() throws {
        let b = CPUBackend(), tape = Tape(backend: b)
        let logits = tape.input(try b.zeros(Shape(2, 4), name: "flip logits"), requiresGrad: true)
        XCTAssertThrowsError(try tape.crossEntropy(logits, classes: [0, 4])) { XCTAssertTrue("\($0)".contains("class id 4"), "\($0)") }
        XCTAssertThrowsError(try tape.crossEntropy(logits, classes: [0])) { XCTAssertTrue("\($0)".contains("(2, 4)"), "\($0)") }
        let a = tape.input(try b.zeros(Shape(2, 8), name: "a")), c = tape.input(try b.zeros(Shape(3, 8), name: "c"))
        XCTAssertThrowsError(try tape.contrastiveLoss(a, c)) { XCTAssertTrue("\($0)".contains("contrastiveLoss"), "\($0)") }
    }
}
