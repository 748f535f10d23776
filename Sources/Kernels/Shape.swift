/// A tensor shape in PyTorch's row-major convention: `Shape(1, 12, 16, 16, 32)` is (N, C, D, H, W).
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let dims: [Int]

    public init(_ dims: [Int]) {
        precondition(dims.allSatisfy { $0 >= 0 }, "negative dimension in \(dims)")
        self.dims = dims
    }

    public init(_ dims: Int...) { self.init(dims) }

    public var rank: Int { dims.count }
    /// Number of elements (1 for a scalar shape `()`).
    public var count: Int { dims.reduce(1, *) }
    public subscript(axis: Int) -> Int { dims[axis < 0 ? axis + rank : axis] }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: rank)
        var acc = 1
        for i in stride(from: rank - 1, through: 0, by: -1) { s[i] = acc; acc *= dims[i] }
        return s
    }

    /// Splits the shape around `axis` into (outer, axis, inner) element counts.
    public func split(at axis: Int) -> (outer: Int, mid: Int, inner: Int) {
        let a = axis < 0 ? axis + rank : axis
        return (dims[..<a].reduce(1, *), dims[a], dims[(a + 1)...].reduce(1, *))
    }

    public func replacing(axis: Int, with size: Int) -> Shape {
        var d = dims
        d[axis < 0 ? axis + rank : axis] = size
        return Shape(d)
    }

    public var description: String { "(" + dims.map(String.init).joined(separator: ", ") + ")" }
}
