import Kernels
import SeededRandom
import XCTest

/// Compares `actual` with `expected` elementwise. The error is max|a − e| / max(max|e|, floor)
/// (the reference README's "rel"); on failure reports the largest difference, its index, and the
/// first five mismatches.
public func assertClose(_ actual: [Float], _ expected: [Float], rel: Float, floor: Float = 1e-8, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let scale = max(expected.reduce(Float(0)) { max($0, abs($1)) }, floor)
    var worst: Float = 0, worstIndex = 0
    var mismatches: [String] = []
    for i in 0..<actual.count {
        let d = abs(actual[i] - expected[i])
        let bad = !(d <= rel * scale) || actual[i].isNaN != expected[i].isNaN
        if d > worst || (bad && worst.isNaN == false && d.isNaN) { worst = d; worstIndex = i }
        if bad && mismatches.count < 5 { mismatches.append("[\(i)] \(actual[i]) vs \(expected[i])") }
    }
    if !mismatches.isEmpty {
        XCTFail("\(what): rel error \(worst / scale) > \(rel) (max |diff| \(worst) at \(worstIndex), scale \(scale)); "
                + "first mismatches: " + mismatches.joined(separator: ", "), file: file, line: line)
    }
}

/// Shape first, then values (downloads `tensor`).
public func assertClose(_ tensor: Tensor, on backend: Backend, _ expected: [Float], shape: Shape, rel: Float,
                        _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(tensor.shape, shape, "\(what): shape", file: file, line: line)
    assertClose(try backend.download(tensor), expected, rel: rel, what, file: file, line: line)
}

/// Deterministic test data (SplitMix64), the same on every run and machine.
public struct TestRandom {
    private var random: SplitMix64
    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { random.next() }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float = 0, _ hi: Float = 1) -> Float { lo + (hi - lo) * random.uniformFloat() }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u = max(uniform(), 1e-7), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    public mutating func normals(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in normal() * scale } }
}
