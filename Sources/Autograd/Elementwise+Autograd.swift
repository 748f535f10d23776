import Kernels

extension Tape {
    public func add(_ a: Variable, _ b: Variable) throws -> Variable {
        record(try backend.elementwise(.add, a.value, b.value), [a, b]) { dy in [dy, dy] }
    }

    /// LeakyReLU(a + b) in one pass (MONAI UnetResBlock's residual join); the backward is LeakyReLU's, read from the
    /// output (its sign is the sum's).
    public func addLeakyRelu(_ a: Variable, _ b: Variable, slope: Float = 0.01) throws -> Variable {
        let be = backend
        let y = try be.addActivated(a.value, b.value, activation: .leakyRelu(slope: slope))
        return record(y, [a, b]) { dy in
            let d = try be.applyBackward(.leakyRelu(slope: slope), x: y, dy: dy)
            return [d, d]
        }
    }

    public func sub(_ a: Variable, _ b: Variable) throws -> Variable {
        let be = backend
        return record(try be.elementwise(.sub, a.value, b.value), [a, b]) { dy in [dy, try be.apply(.scale(-1), dy)] }
    }

    public func mul(_ a: Variable, _ b: Variable) throws -> Variable {
        let be = backend
        return record(try be.elementwise(.mul, a.value, b.value), [a, b]) { dy in
            [a.requiresGrad ? try be.elementwise(.mul, dy, b.value) : nil,
             b.requiresGrad ? try be.elementwise(.mul, dy, a.value) : nil]
        }
    }

    public func div(_ a: Variable, _ b: Variable) throws -> Variable {
        let be = backend
        let y = try be.elementwise(.div, a.value, b.value)
        return record(y, [a, b]) { dy in
            let da = try be.elementwise(.div, dy, b.value)
            return [da, b.requiresGrad ? try be.apply(.scale(-1), be.elementwise(.mul, da, y)) : nil]
        }
    }

    public func scale(_ x: Variable, _ alpha: Float) throws -> Variable { try unary(.scale(alpha), x) }
    public func relu(_ x: Variable) throws -> Variable { try unary(.relu, x) }
    public func leakyRelu(_ x: Variable, slope: Float = 0.01) throws -> Variable { try unary(.leakyRelu(slope: slope), x) }
    public func gelu(_ x: Variable) throws -> Variable { try unary(.gelu, x) }
    public func sigmoid(_ x: Variable) throws -> Variable { try unary(.sigmoid, x) }

    public func unary(_ op: UnaryOp, _ x: Variable) throws -> Variable {
        let be = backend
        return record(try be.apply(op, x.value), [x]) { dy in [try be.applyBackward(op, x: x.value, dy: dy)] }
    }

    /// x + bias broadcast along `axis` (bias: (x.shape[axis])).
    public func addBias(_ x: Variable, _ bias: Variable, axis: Int) throws -> Variable {
        let be = backend
        return record(try be.addBias(x.value, bias.value, axis: axis), [x, bias]) { dy, out in
            [dy, try be.addBiasBackward(dy: dy, axis: axis, into: out[1])]
        }
    }

    /// Inverted dropout with a seeded mask (identity when `p == 0`).
    public func dropout(_ x: Variable, p: Float, seed: UInt64) throws -> Variable {
        guard p > 0 else { return x }
        let be = backend
        let (y, mask) = try be.dropout(x.value, p: p, seed: seed)
        return record(y, [x]) { dy in [try be.dropoutBackward(dy: dy, mask: mask)] }
    }

    public func softmax(_ x: Variable) throws -> Variable {
        let be = backend
        let y = try be.softmax(x.value)
        return record(y, [x]) { dy in [try be.softmaxBackward(y: y, dy: dy)] }
    }

    public func sum(_ x: Variable, axis: Int) throws -> Variable {
        let be = backend
        let shape = x.shape
        return record(try be.sum(x.value, axis: axis), [x]) { dy in
            [try be.sumBackward(dy: dy, inputShape: shape, axis: axis)]
        }
    }

    public func sum(_ x: Variable) throws -> Variable {
        let be = backend
        let shape = x.shape
        return record(try be.sum(x.value), [x]) { dy in [try be.sumBackward(dy: dy, inputShape: shape)] }
    }

    public func mean(_ x: Variable, axis: Int) throws -> Variable {
        try scale(try sum(x, axis: axis), 1 / Float(x.shape[axis]))
    }

    public func mean(_ x: Variable) throws -> Variable { try scale(try sum(x), 1 / Float(max(x.shape.count, 1))) }
}
