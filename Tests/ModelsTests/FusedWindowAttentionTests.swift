import Autograd
import Kernels
import Models
import TestSupport
import XCTest

/// The fused window attention (tokens in, tokens out) equals MONAI's op-by-op chain (pad, roll,
/// partition, attention on windows, reverse, roll back, crop): output, d/dx and every parameter
/// gradient — the qkv bias's included, which also collects the padded tokens' k and v gradients.
final class FusedWindowAttentionTests: XCTestCase {
    func testFusedEqualsUnfusedChain() throws {
        let layouts: [(size: [Int], window: [Int], shift: [Int], heads: Int, bias: Bool)] = [
            ([5, 6, 9], [3, 3, 4], [1, 1, 2], 2, true),    // shifted, padded on every axis
            ([4, 4, 4], [2, 2, 2], [0, 0, 0], 3, true),    // unshifted, no padding
            ([2, 3, 7], [4, 4, 4], [2, 2, 2], 2, false),   // clipped on two axes, no qkv bias
        ]
        for b in try TestBackends.all() {
            for (li, l) in layouts.enumerated() {
                let dim = 6
                var ini = Initializer(seed: UInt64(10 + li))
                let attn = try WindowAttention(dim: dim, heads: l.heads, window: l.window, qkvBias: l.bias, backend: b,
                                               initializer: &ini)
                let g = WindowGeometry(batch: 2, size: l.size, channels: dim, window: l.window, shift: l.shift)
                var rng = TestRandom(seed: UInt64(li))
                let xs = rng.normals(2 * l.size.reduce(1, *) * dim)
                let upstream = try b.upload(rng.normals(xs.count), shape: Shape([2] + l.size + [dim]), name: "upstream")
                func run(fused: Bool) throws -> [String: [Float]] {
                    let tape = Tape(backend: b)
                    let x = tape.input(try b.upload(xs, shape: Shape([2] + l.size + [dim]), name: "x"), requiresGrad: true)
                    let y = fused ? try attn(tokens: x, geometry: g, tape: tape)
                        : try tape.windowMerge(try attn(windows: try tape.windowPartition(x, g), geometry: g, tape: tape), g)
                    var out = ["y": try b.download(y.value)]
                    try tape.backward(y, seed: upstream)
                    out["dx"] = try b.download(x.grad!)
                    for (k, p) in attn.namedParameters() { out[k] = try b.download(p.grad!) }
                    return out
                }
                let fused = try run(fused: true), chain = try run(fused: false)
                XCTAssertEqual(Set(fused.keys), Set(chain.keys))
                for (k, ref) in chain { assertClose(fused[k]!, ref, rel: 1e-5, "layout \(li) \(k) on \(b.deviceName)") }
            }
        }
    }

    /// The OpenCL kernels hold a head's row in registers (64 floats at most) and refuse a wider head by
    /// name; the CPU reference has no such bound.
    func testHeadDimensionBoundIsOpenCLOnly() throws {
        let dim = 66, size = [2, 2, 2], window = [2, 2, 2]
        for b in try TestBackends.all() {
            var ini = Initializer(seed: 1)
            let attn = try WindowAttention(dim: dim, heads: 1, window: window, qkvBias: true, backend: b, initializer: &ini)
            let g = WindowGeometry(batch: 1, size: size, channels: dim, window: window, shift: [0, 0, 0])
            var rng = TestRandom(seed: 2)
            let tape = Tape(backend: b)
            let x = tape.input(try b.upload(rng.normals(8 * dim), shape: Shape([1] + size + [dim]), name: "x"), requiresGrad: false)
            if b is CPUBackend {
                XCTAssertNoThrow(try attn(tokens: x, geometry: g, tape: tape))
            } else {
                XCTAssertThrowsError(try attn(tokens: x, geometry: g, tape: tape)) { error in
                    XCTAssertTrue("\(error)".contains("head dimension 66"), "\(error)")
                }
            }
        }
    }
}
