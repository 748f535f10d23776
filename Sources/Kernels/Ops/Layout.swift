// permute, concat, split. `reshape` is `Tensor.reshaped` (a view, no copy).
extension Backend {
    /// y's axis k is x's axis perm[k] (torch.permute).
    public func permute(_ x: Tensor, _ perm: [Int]) throws -> Tensor {
        try Check.that(perm.sorted() == Array(0..<x.shape.rank), "permute",
                       "\(perm) is not a permutation of the axes of \(x.name) \(x.shape)")
        let y = try allocate(Shape(perm.map { x.shape[$0] }), name: "permute output")
        try permute(x: x, dims: x.shape.dims, perm: perm, y: y)
        return y
    }

    /// torch.cat along `axis`; all other axes must match.
    public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor {
        guard let first = xs.first else { throw ShapeError(op: "concat", "no tensors") }
        let a = axis < 0 ? axis + first.shape.rank : axis
        try Check.that(a >= 0 && a < first.shape.rank, "concat", "axis \(axis) out of range for \(first.shape)")
        for t in xs {
            try Check.that(t.shape.rank == first.shape.rank && t.shape.replacing(axis: a, with: 0) == first.shape.replacing(axis: a, with: 0),
                           "concat", "\(t.name) \(t.shape) does not match \(first.name) \(first.shape) outside axis \(a)")
        }
        let total = xs.reduce(0) { $0 + $1.shape[a] }
        let y = try allocate(first.shape.replacing(axis: a, with: total), name: "concat output")
        let (outer, _, inner) = y.shape.split(at: a)
        var offset = 0
        for t in xs {
            let len = t.shape[a] * inner
            try copyBlock(src: t, srcOffset: 0, srcStride: len, dst: y, dstOffset: offset, dstStride: total * inner,
                          rows: outer, length: len)
            offset += len
        }
        return y
    }

    /// torch.split with explicit sizes along `axis` (concat's backward).
    public func split(_ x: Tensor, sizes: [Int], axis: Int) throws -> [Tensor] {
        let a = axis < 0 ? axis + x.shape.rank : axis
        try Check.that(a >= 0 && a < x.shape.rank && sizes.reduce(0, +) == x.shape[a] && sizes.allSatisfy { $0 >= 0 },
                       "split", "sizes \(sizes) do not add up to axis \(axis) of \(x.name) \(x.shape)")
        let (outer, total, inner) = x.shape.split(at: a)
        var offset = 0
        return try sizes.map { s in
            let y = try allocate(x.shape.replacing(axis: a, with: s), name: "split output")
            try copyBlock(src: x, srcOffset: offset, srcStride: total * inner, dst: y, dstOffset: 0, dstStride: s * inner,
                          rows: outer, length: s * inner)
            offset += s * inner
            return y
        }
    }
}

/// The permutation that undoes `perm` (permute's backward).
public func inversePermutation(_ perm: [Int]) -> [Int] {
    var inv = [Int](repeating: 0, count: perm.count)
    for (k, p) in perm.enumerated() { inv[p] = k }
    return inv
}
