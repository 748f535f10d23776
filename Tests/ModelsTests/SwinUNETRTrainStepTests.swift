import Autograd
import Foundation
import Kernels
import Models
import SafeTensors
import TestSupport
import Train
import TrainingLoop
import XCTest

/// One MONAI training step: DiceCE loss, d loss / d logits, every parameter gradient, one AdamW step.
final class SwinUNETRTrainStepTests: XCTestCase {
    func testTrainStepMatchesMONAI() throws {
        let dir = try Reference.file("swin_unetr")
        let weights = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("weights.safetensors"))
        let input = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("input.safetensors"))
        let step = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("train_step.safetensors"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        let config = try JSONDecoder().decode(SwinUNETRConfig.self, from: try JSONSerialization.data(withJSONObject: json["constructor_args"]!))
        for b in try TestBackends.all() {
            let model = try SwinUNETR(config, backend: b)
            try model.load(weights: weights, backend: b)
            let tape = Tape(backend: b)
            let x = tape.input(try b.upload(try input.floats("x"), shape: Shape(try input.shape("x")), name: "x"))
            let y = try b.upload(try step.floats("y"), shape: Shape(try step.shape("y")), name: "y")
            let logits = try model(x, tape: tape)
            let (loss, parts) = try tape.diceCELoss(logits, labels: y)
            let p = try b.download(parts)
            XCTAssertEqual(p[0], 1.8436353206634521, accuracy: 1.8436353 * 1e-5, "loss on \(b.deviceName)")
            XCTAssertEqual(p[1], 0.7796276211738586, accuracy: 1e-5, "dice part on \(b.deviceName)")
            XCTAssertEqual(p[2], 1.0640076398849487, accuracy: 1.1e-5, "CE part on \(b.deviceName)")
            try tape.backward(loss)
            for (key, param) in model.namedParameters() {
                guard let g = param.grad else { XCTFail("\(key) has no gradient"); continue }
                assertClose(try b.download(g), try step.floats("grad." + key), rel: 2e-3, "grad.\(key) on \(b.deviceName)")
            }
            try assertNearFloat64Truth(model.namedParameters(), backend: b, pytorch: step,
                                       truth: try SafeTensorsFile(contentsOf: dir.appendingPathComponent("f64_truth.safetensors")))
            let opt = AdamW(hyper: AdamWHyper(lr: 1e-4, weightDecay: 1e-5), backend: b)
            try opt.update(model.namedParameters())
            let params = Dictionary(uniqueKeysWithValues: model.namedParameters())
            for key in step.keys where key.hasPrefix("after_step.") {
                let name = String(key.dropFirst("after_step.".count))
                let got = try b.download(params[name]!.value), want = try step.floats(key)
                let grad = try step.floats("grad." + name)
                var worst: Float = 0
                for i in want.indices where abs(grad[i]) > 1e-7 { worst = max(worst, abs(got[i] - want[i])) }
                XCTAssertLessThanOrEqual(worst, 1e-6, "\(key) on \(b.deviceName)")
                for i in want.indices { XCTAssertLessThanOrEqual(abs(got[i] - want[i]), 2e-4, "\(key)[\(i)] on \(b.deviceName)") }
            }
        }
    }

    /// Each gradient's distance to MONAI's float64 gradient (max |g − g64| over the tensor's max |g64|) is at most
    /// 3× PyTorch float32's own distance, with a floor of 1e-6 (a few float32 ulps, for tensors PyTorch gets exact).
    /// The issue allows a 2e-3 floor; 1e-6 is what catches long float32 sums (before split-K, OpenCL's
    /// encoder1.layer.conv2 gradient was 14× PyTorch's distance). The table printed beside it is what
    /// BENCHMARKS.md quotes.
    private func assertNearFloat64Truth(_ parameters: [(String, Parameter)], backend b: Backend, pytorch: SafeTensorsFile,
                                        truth: SafeTensorsFile) throws {
        var ratios: [(key: String, ours: Double, torch: Double)] = []
        for (key, param) in parameters where truth.keys.contains("grad." + key) {
            let t = try truth.floats("grad." + key).map(Double.init)
            let ours = try b.download(param.grad!).map(Double.init)
            let torch = try pytorch.floats("grad." + key).map(Double.init)
            let scale = max(t.map(abs).max() ?? 0, 1e-12)
            func distance(_ g: [Double]) -> Double { zip(g, t).map { abs($0 - $1) }.max()! / scale }
            ratios.append((key, distance(ours), distance(torch)))
            XCTAssertLessThanOrEqual(distance(ours), max(3 * distance(torch), 1e-6),
                                     "grad.\(key) on \(b.deviceName): float64-truth distance \(distance(ours)) vs PyTorch's \(distance(torch))")
        }
        XCTAssertEqual(ratios.count, truth.keys.filter { $0.hasPrefix("grad.") }.count, "every float64 gradient compared")
        let sorted = ratios.map { $0.ours / max($0.torch, 1e-9) }.sorted()
        print("float64-truth distance on \(b.deviceName): ours/PyTorch median \(sorted[sorted.count / 2]), max \(sorted.last!)")
        for r in ratios.sorted(by: { $0.ours / max($0.torch, 1e-9) > $1.ours / max($1.torch, 1e-9) }).prefix(8) {
            print("  \(r.key)  ours " + String(format: "%.2e  PyTorch f32 %.2e", r.ours, r.torch))
        }
    }
}
