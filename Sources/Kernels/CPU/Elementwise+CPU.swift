import Foundation

/// Scalar definitions shared by the CPU backend (and mirrored in kernels/elementwise.cl).
enum Scalar {
    static func forward(_ op: UnaryOp, _ v: Float) -> Float {
        switch op {
        case .relu: return v < 0 ? 0 : v   // NaN passes through, as in PyTorch
        case let .leakyRelu(s): return v > 0 ? v : v * s
        case .gelu: return 0.5 * v * (1 + erf(v * 0.70710678118654752))
        case .sigmoid: return 1 / (1 + exp(-v))
        case let .scale(a): return v * a
        case let .rsqrt(e): return 1 / (v + e).squareRoot()
        case .abs: return Swift.abs(v)
        }
    }

    static func derivative(_ op: UnaryOp, _ v: Float) -> Float {
        switch op {
        case .relu: return v > 0 ? 1 : 0
        case let .leakyRelu(s): return v > 0 ? 1 : s
        case .gelu:
            let cdf = 0.5 * (1 + erf(v * 0.70710678118654752))
            return cdf + v * exp(-0.5 * v * v) * 0.39894228040143268
        case .sigmoid:
            let s = 1 / (1 + exp(-v))
            return s * (1 - s)
        case let .scale(a): return a
        case let .rsqrt(e):
            let r = 1 / (v + e).squareRoot()
            return -0.5 * r * r * r
        case .abs: return v > 0 ? 1 : (v < 0 ? -1 : 0)
        }
    }
}

extension CPUBackend {
    public func fill(_ y: Tensor, value: Float) throws {
        try ptr(y, "fill").update(repeating: value, count: y.count)
    }

    public func unary(_ op: UnaryOp, x: Tensor, y: Tensor) throws {
        let xp = try ptr(x, "unary"), yp = try ptr(y, "unary")
        parallelRanges(y.count, grain: elementGrain) { r in for i in r { yp[i] = Scalar.forward(op, xp[i]) } }
    }

    public func unaryBackward(_ op: UnaryOp, x: Tensor, dy: Tensor, dx: Tensor) throws {
        let xp = try ptr(x, "unaryBackward"), g = try ptr(dy, "unaryBackward"), d = try ptr(dx, "unaryBackward")
        parallelRanges(dx.count, grain: elementGrain) { r in for i in r { d[i] = Scalar.derivative(op, xp[i]) * g[i] } }
    }

    public func binary(_ op: BinaryOp, a: Tensor, b: Tensor, y: Tensor) throws {
        let ap = try ptr(a, "binary"), bp = try ptr(b, "binary"), yp = try ptr(y, "binary")
        parallelRanges(y.count, grain: elementGrain) { r in
            switch op {
            case .add: for i in r { yp[i] = ap[i] + bp[i] }
            case .sub: for i in r { yp[i] = ap[i] - bp[i] }
            case .mul: for i in r { yp[i] = ap[i] * bp[i] }
            case .div: for i in r { yp[i] = ap[i] / bp[i] }
            }
        }
    }

    public func addActivated(a: Tensor, b: Tensor, activation: FusedActivation, y: Tensor) throws {
        let ap = try ptr(a, "addActivated"), bp = try ptr(b, "addActivated"), yp = try ptr(y, "addActivated")
        parallelRanges(y.count, grain: elementGrain) { r in for i in r { yp[i] = activation.apply(ap[i] + bp[i]) } }
    }

    public func axpy(alpha: Float, x: Tensor, y: Tensor) throws {
        let xp = try ptr(x, "axpy"), yp = try ptr(y, "axpy")
        parallelRanges(y.count, grain: elementGrain) { r in for i in r { yp[i] += alpha * xp[i] } }
    }

    public func broadcastAdd(y: Tensor, base: Tensor?, src: Tensor, dims: Dims3, along: Dims3.Keep) throws {
        let yp = try ptr(y, "broadcastAdd"), sp = try ptr(src, "broadcastAdd")
        let xp = try base.map { try ptr($0, "broadcastAdd") } ?? yp
        parallelRanges(dims.outer * dims.mid, grain: max(1, elementGrain / max(dims.inner, 1))) { rows in
            for r in rows {
                let (a, b) = (r / dims.mid, r % dims.mid), row = r * dims.inner
                for c in 0..<dims.inner {
                    yp[row + c] = xp[row + c] + (along == .middle ? sp[b] : sp[a * dims.inner + c])
                }
            }
        }
    }

    public func biasUnary(_ op: UnaryOp, pre: Tensor, bias: Tensor, columns: Int, y: Tensor) throws {
        let pp = try ptr(pre, "biasUnary"), bp = try ptr(bias, "biasUnary"), yp = try ptr(y, "biasUnary")
        parallelRanges(y.count, grain: elementGrain) { r in
            for i in r {
                let v = pp[i] + bp[i % columns]
                pp[i] = v
                yp[i] = Scalar.forward(op, v)
            }
        }
    }

    public func dropoutMask(y: Tensor, p: Float, seed: UInt64) throws {
        let yp = try ptr(y, "dropoutMask")
        for i in 0..<y.count { yp[i] = DropoutHash.uniform(seed: seed, index: i) >= p ? 1 / (1 - p) : 0 }
    }
}
