import Kernels

extension Tape {
    /// A view with another shape (no copy); the gradient is reshaped back.
    public func reshape(_ x: Variable, _ shape: Shape) throws -> Variable {
        let original = x.shape
        return record(try x.value.reshaped(shape), [x]) { dy in [try dy.reshaped(original)] }
    }

    public func permute(_ x: Variable, _ perm: [Int]) throws -> Variable {
        let be = backend
        return record(try be.permute(x.value, perm), [x]) { dy in [try be.permute(dy, inversePermutation(perm))] }
    }

    public func concat(_ xs: [Variable], axis: Int) throws -> Variable {
        let be = backend
        let sizes = xs.map { $0.shape[axis < 0 ? axis + $0.shape.rank : axis] }
        return record(try be.concat(xs.map(\.value), axis: axis), xs) { dy in try be.split(dy, sizes: sizes, axis: axis) }
    }

    /// torch.split with explicit sizes; each piece's gradient lands in its slice of x's gradient.
    public func split(_ x: Variable, sizes: [Int], axis: Int) throws -> [Variable] {
        let be = backend
        let shape = x.shape
        let pieces = try be.split(x.value, sizes: sizes, axis: axis)
        return pieces.enumerated().map { i, piece in
            record(piece, [x]) { dy in
                let parts = try sizes.enumerated().map { j, s in
                    j == i ? dy : try be.zeros(shape.replacing(axis: axis, with: s), name: "split grad")
                }
                return [try be.concat(parts, axis: axis)]
            }
        }
    }
}
