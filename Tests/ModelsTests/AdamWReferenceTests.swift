import Kernels
import SafeTensors
import TestSupport
import Train
import TrainingLoop
import XCTest

/// One torch.optim.AdamW step (lr 1e-4, wd 1e-5) from MONAI's Swin UNETR gradients, on both backends.
final class AdamWReferenceTests: XCTestCase {
    func testOneStepMatchesPyTorch() throws {
        let weights = try SafeTensorsFile(contentsOf: try Reference.file("swin_unetr/weights.safetensors"))
        let step = try SafeTensorsFile(contentsOf: try Reference.file("swin_unetr/train_step.safetensors"))
        let keys = step.keys.filter { $0.hasPrefix("after_step.") }.map { String($0.dropFirst("after_step.".count)) }
        XCTAssertEqual(keys.count, 10)
        for backend in try TestBackends.all() {
            let opt = AdamW(hyper: AdamWHyper(lr: 1e-4, weightDecay: 1e-5), backend: backend)
            var items: [(key: String, value: Tensor, gradient: Tensor)] = []
            for k in keys {
                let shape = Shape(try weights.shape(k))
                items.append((k, try backend.upload(try weights.floats(k), shape: shape, name: k),
                              try backend.upload(try step.floats("grad." + k), shape: shape, name: "grad." + k)))
            }
            try opt.update(items)
            for (k, value, g) in items {
                let got = try backend.download(value), want = try step.floats("after_step." + k), grad = try backend.download(g)
                for i in want.indices {
                    // README: abs 1e-6, or 2e-4 where |g| ≲ 1e-8 makes the step sign-sensitive.
                    let tol: Float = abs(grad[i]) < 1e-7 ? 2e-4 : 1e-6
                    if abs(got[i] - want[i]) > tol {
                        XCTFail("\(k)[\(i)] on \(backend.deviceName): \(got[i]) vs \(want[i]) (g \(grad[i]))")
                        break
                    }
                }
            }
            XCTAssertEqual(opt.step, 1)
        }
    }
}
