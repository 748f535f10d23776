import Kernels
import TestSupport
import XCTest

/// The OpenCL implicit-GEMM convolution forward (kernels/conv.cl `conv_forward_implicit`) equals the CPU
/// reference (im2col + OpenBLAS) on shapes that leave every tile ragged: channel counts that are not
/// multiples of the 32-row tile, reductions that are not multiples of 16, strides, padding, flat kernels.
final class ConvolutionAlgorithmTests: XCTestCase {
    func testImplicitGEMMMatchesCPUReference() throws {
        let cl = try TestBackends.openCL()
        let cpu = CPUBackend()
        let cases: [(x: [Int], w: [Int], options: Conv3dOptions)] = [
            ([2, 5, 7, 6, 9], [35, 5, 3, 3, 3], .init(stride: 1, padding: 1)),
            ([1, 3, 8, 8, 8], [12, 3, 2, 2, 2], .init(stride: 2, padding: 0)),
            ([1, 4, 1, 10, 11], [6, 4, 1, 3, 3], .init(stride: (1, 2, 1), padding: (0, 1, 1))),
            ([1, 16, 4, 4, 4], [70, 16, 1, 1, 1], .init()),
        ]
        for (i, c) in cases.enumerated() {
            var rng = TestRandom(seed: UInt64(i))
            let xs = rng.normals(c.x.reduce(1, *)), ws = rng.normals(c.w.reduce(1, *)), bs = rng.normals(c.w[0])
            func run(_ b: Backend) throws -> [Float] {
                let y = try b.conv3d(try b.upload(xs, shape: Shape(c.x), name: "x"), weight: try b.upload(ws, shape: Shape(c.w), name: "w"),
                                     bias: try b.upload(bs, shape: Shape(c.w[0]), name: "b"), options: c.options)
                return try b.download(y)
            }
            let expected = try run(cpu)
            cl.convAlgorithm = .implicitGEMM
            assertClose(try run(cl), expected, rel: 1e-5, "case \(i): implicit GEMM on \(cl.deviceName)")
            cl.convAlgorithm = .im2col
            assertClose(try run(cl), expected, rel: 1e-5, "case \(i): im2col + CLBlast on \(cl.deviceName)")
        }
    }
}
