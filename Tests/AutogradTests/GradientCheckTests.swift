import Autograd
import Kernels
import TestSupport
import XCTest

/// Every backward pass on the CPU backend against central finite differences of Σ out·R
/// (sums in Double; up to 16 sampled elements per input).
final class GradientCheckTests: XCTestCase {
    func testEveryBackwardAgainstFiniteDifferences() throws {
        let cpu = CPUBackend()
        let eps: Float = 1e-2
        for (i, c) in opCases.enumerated() {
            let values = c.values(seed: UInt64(200 + i))
            var rng = TestRandom(seed: 9)
            var upstream: [Float] = []
            let analytic = try c.run(on: cpu, values: values) { s in upstream = rng.normals(s.count); return upstream }
            for k in 0..<values.count {
                let scale = max(analytic.grads[k].map(abs).max() ?? 0, 1e-3)
                var pick = TestRandom(seed: UInt64(k + 1))
                let n = values[k].count
                let indices = n <= 16 ? Array(0..<n) : (0..<16).map { _ in Int(pick.next() % UInt64(n)) }
                for idx in indices {
                    var plus = values, minus = values
                    plus[k][idx] += eps
                    minus[k][idx] -= eps
                    let numeric = (try c.loss(on: cpu, values: plus, upstream: upstream)
                        - c.loss(on: cpu, values: minus, upstream: upstream)) / Double(2 * eps)
                    let a = Double(analytic.grads[k][idx])
                    XCTAssertEqual(a, numeric, accuracy: 2e-3 * Double(scale) + 2e-4,
                                   "\(c.name): d/d input\(k)[\(idx)]")
                }
            }
        }
    }
}
