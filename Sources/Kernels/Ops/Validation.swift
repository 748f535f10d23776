/// Shape checks shared by the ops: each throws `ShapeError` naming the op, the tensor and both shapes.
public enum Check {
    public static func shape(_ t: Tensor, _ expected: Shape, _ op: String) throws {
        guard t.shape == expected else {
            throw ShapeError(op: op, tensor: t.name, expected: "\(expected)", actual: t.shape)
        }
    }

    public static func rank(_ t: Tensor, _ rank: Int, _ op: String, _ what: String) throws {
        guard t.shape.rank == rank else {
            throw ShapeError(op: op, tensor: t.name, expected: "rank \(rank) \(what)", actual: t.shape)
        }
    }

    public static func same(_ a: Tensor, _ b: Tensor, _ op: String) throws {
        guard a.shape == b.shape else {
            throw ShapeError(op: op, "\(a.name) \(a.shape) and \(b.name) \(b.shape) differ")
        }
    }

    public static func that(_ ok: Bool, _ op: String, _ message: @autoclosure () -> String) throws {
        if !ok { throw ShapeError(op: op, message()) }
    }
}

extension Backend {
    /// A view's offset is aligned and it fits inside its base.
    func checkView(_ base: Tensor, _ offset: Int, _ shape: Shape, _ name: String) throws {
        try Check.that(offset >= 0 && offset % viewAlignment == 0 && offset + shape.count <= base.count, "view",
                       "\(name) \(shape) at element \(offset) does not fit \(base.name) \(base.shape) (alignment \(viewAlignment))")
    }
}
