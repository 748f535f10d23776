import Kernels
import TestSupport
import XCTest

/// Wrong shapes throw a ShapeError that names the op and both shapes, on both backends, before any launch.
final class ShapeErrorTests: XCTestCase {
    func check(_ backend: Backend, _ expect: [String], _ body: () throws -> Void, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertTrue(error is ShapeError, "\(backend.deviceName): \(error)", line: line)
            for s in expect { XCTAssertTrue("\(error)".contains(s), "\(backend.deviceName): '\(error)' lacks '\(s)'", line: line) }
        }
    }

    func testShapeMismatchesAreNamed() throws {
        for b in try TestBackends.all() {
            let a = try b.zeros(Shape(3, 4), name: "a"), c = try b.zeros(Shape(5, 6), name: "c")
            check(b, ["matmul", "(3, 4)", "(5, 6)"]) { _ = try b.matmul(a, c) }
            check(b, ["add", "(3, 4)", "(5, 6)"]) { _ = try b.elementwise(.add, a, c) }
            check(b, ["linear", "(3, 4)", "(5, 6)"]) { _ = try b.linear(a, weight: c, bias: nil) }
            let x = try b.zeros(Shape(1, 2, 4, 4, 4), name: "volume"), w = try b.zeros(Shape(3, 5, 3, 3, 3), name: "kernel")
            check(b, ["conv3d", "(1, 2, 4, 4, 4)", "(3, 5, 3, 3, 3)"]) { _ = try b.conv3d(x, weight: w, bias: nil) }
            check(b, ["convTranspose3d", "(1, 2, 4, 4, 4)", "(3, 5, 3, 3, 3)"]) {
                _ = try b.convTranspose3d(x, weight: w, bias: nil, options: .init(stride: 2, padding: 0))
            }
            check(b, ["concat", "(3, 4)", "(5, 6)"]) { _ = try b.concat([a, c], axis: 0) }
            check(b, ["layerNorm", "(5)"]) { _ = try b.layerNorm(a, gamma: try b.zeros(Shape(5), name: "g"), beta: nil) }
            check(b, ["instanceNorm", "spatial"]) { _ = try b.instanceNorm(try b.zeros(Shape(2, 3, 1, 1, 1), name: "n"), gamma: nil, beta: nil) }
            check(b, ["permute", "[0, 0]"]) { _ = try b.permute(a, [0, 0]) }
            check(b, ["reshape", "(3, 4)", "(5)"]) { _ = try a.reshaped(Shape(5)) }
            check(b, ["maxPool2d", "rank 4"]) { _ = try b.maxPool2d(a, kernel: (2, 2)) }
        }
    }
}
