import Autograd
import Foundation
import Kernels
import SafeTensors
import TestSupport
import XCTest

/// MONAI DiceCELoss(to_onehot_y=True, softmax=True): value, parts and gradient for the three fixture cases.
final class DiceCEReferenceTests: XCTestCase {
    func testFixtureCasesOnBothBackends() throws {
        let f = try SafeTensorsFile(contentsOf: try Reference.file("losses/dicece.safetensors"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("losses/losses.json"))) as! [String: Any]
        let cases = json["dicece"] as! [[String: Any]]
        for b in [CPUBackend() as Backend, try TestBackends.openCL()] {
            for (k, c) in cases.enumerated() {
                let tape = Tape(backend: b)
                let logits = tape.input(try b.upload(try f.floats("case\(k).logits"), shape: Shape(try f.shape("case\(k).logits")),
                                                     name: "logits"), requiresGrad: true)
                let labels = try b.upload(try f.floats("case\(k).label"), shape: Shape(try f.shape("case\(k).label")), name: "label")
                let (loss, parts) = try tape.diceCELoss(logits, labels: labels)
                let got = try b.download(parts)
                let want = [c["loss"], c["dice_part"], c["ce_part"]].map { Float(($0 as! NSNumber).doubleValue) }
                for i in 0..<3 { XCTAssertEqual(got[i], want[i], accuracy: abs(want[i]) * 1e-5 + 1e-6, "case \(k) part \(i) on \(b.deviceName)") }
                try tape.backward(loss)
                assertClose(try b.download(logits.grad!), try f.floats("case\(k).grad_logits"), rel: 1e-4,
                            "case \(k) grad on \(b.deviceName)")
            }
        }
    }

    func testLabelShapeIsChecked() throws {
        let b = CPUBackend()
        XCTAssertThrowsError(try b.diceCELoss(logits: try b.zeros(Shape(1, 3, 4, 4, 4), name: "logits"),
                                              labels: try b.zeros(Shape(1, 1, 4, 4, 5), name: "label"))) {
            XCTAssertTrue("\($0)".contains("diceCELoss") && "\($0)".contains("(1, 1, 4, 4, 5)"), "\($0)")
        }
    }
}
