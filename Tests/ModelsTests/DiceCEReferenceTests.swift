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
        for b in try TestBackends.all() {
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

    /// MONAI DiceLoss(batch=True) sums over the batch before the ratio, so a batch of B sub-volumes gives the
    /// loss and gradient that the per-sample loss gives for one sample holding all B side by side.
    func testBatchDiceEqualsOneSampleHoldingTheWholeBatch() throws {
        var rng = TestRandom(seed: 9)
        let (B, C, S) = (3, 3, 40)
        let x = rng.normals(B * C * S)
        let y: [Float] = (0..<(B * S)).map { (i: Int) -> Float in Float(i < S ? i % 2 : (i * 5 + i / 7) % 3) }   // sample 0: no class 2
        // (B, C, S) → (1, C, B·S): channel-major, samples laid along the spatial axis.
        func joinedIndex(_ b: Int, _ c: Int, _ s: Int) -> Int { (c * B + b) * S + s }
        func batchIndex(_ b: Int, _ c: Int, _ s: Int) -> Int { (b * C + c) * S + s }
        var joined = [Float](repeating: 0, count: x.count)
        for b in 0..<B { for c in 0..<C { for s in 0..<S { joined[joinedIndex(b, c, s)] = x[batchIndex(b, c, s)] } } }
        var batch = DiceCEOptions()
        batch.batch = true
        for b in try TestBackends.all() {
            func run(_ values: [Float], _ shape: Shape, _ labelShape: Shape, _ o: DiceCEOptions) throws -> ([Float], [Float]) {
                let tape = Tape(backend: b)
                let logits = tape.input(try b.upload(values, shape: shape, name: "logits"), requiresGrad: true)
                let (loss, parts) = try tape.diceCELoss(logits, labels: try b.upload(y, shape: labelShape, name: "labels"), options: o)
                try tape.backward(loss)
                return (try b.download(parts), try b.download(logits.grad!))
            }
            let (parts, grad) = try run(x, Shape(B, C, S), Shape(B, 1, S), batch)
            let (want, wantGrad) = try run(joined, Shape(1, C, B * S), Shape(1, 1, B * S), DiceCEOptions())
            assertClose(parts, want, rel: 1e-5, "batch Dice loss parts on \(b.deviceName)")
            var regrouped = [Float](repeating: 0, count: x.count)
            for i in 0..<B { for c in 0..<C { for s in 0..<S { regrouped[batchIndex(i, c, s)] = wantGrad[joinedIndex(i, c, s)] } } }
            assertClose(grad, regrouped, rel: 1e-4, "batch Dice gradient on \(b.deviceName)")
            let (perSample, _) = try run(x, Shape(B, C, S), Shape(B, 1, S), DiceCEOptions())
            XCTAssertGreaterThan(abs(perSample[1] - parts[1]), 1e-3, "per-sample Dice differs when a class is missing from a sample")
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
