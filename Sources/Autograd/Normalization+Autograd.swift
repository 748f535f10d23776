import Kernels

extension Tape {
    /// LayerNorm over the last axis; nil weight/bias = no affine.
    public func layerNorm(_ x: Variable, weight: Variable?, bias: Variable?, eps: Float = 1e-5) throws -> Variable {
        let be = backend
        let (y, cache) = try be.layerNorm(x.value, gamma: weight?.value, beta: bias?.value, eps: eps)
        return record(y, [x] + [weight, bias].compactMap { $0 }) { dy, out in
            let affine = weight != nil
            let g = try be.layerNormBackward(x.value, gamma: weight?.value, cache: cache, dy: dy, dx: out[0],
                                             dgamma: affine ? out[1] : .skip, dbeta: affine ? out[2] : .skip)
            return [g.dx] + (affine ? [g.dgamma, g.dbeta] : [])
        }
    }

    /// InstanceNorm over the spatial axes of (N, C, ...); nil weight/bias = affine False (MONAI's default).
    /// `activation` follows it: fused into the same kernels without weight and bias, a second op with them.
    public func instanceNorm(_ x: Variable, weight: Variable?, bias: Variable?, eps: Float = 1e-5,
                             activation: FusedActivation = .none) throws -> Variable {
        if weight != nil, case let .leakyRelu(slope) = activation {
            return try leakyRelu(try instanceNorm(x, weight: weight, bias: bias, eps: eps), slope: slope)
        }
        let be = backend
        let (y, cache) = try be.instanceNorm(x.value, gamma: weight?.value, beta: bias?.value, eps: eps, activation: activation)
        return record(y, [x] + [weight, bias].compactMap { $0 }) { dy, out in
            let affine = weight != nil
            let g = try be.instanceNormBackward(x.value, gamma: weight?.value, cache: cache, dy: dy, dx: out[0],
                                                dgamma: affine ? out[1] : .skip, dbeta: affine ? out[2] : .skip)
            return [g.dx] + (affine ? [g.dgamma, g.dbeta] : [])
        }
    }

    /// BatchNorm2d; in training mode `running` is updated in place.
    public func batchNorm(_ x: Variable, weight: Variable, bias: Variable, running: RunningStats, training: Bool,
                          momentum: Float = 0.1, eps: Float = 1e-5) throws -> Variable {
        let be = backend
        let (y, cache) = try be.batchNorm(x.value, gamma: weight.value, beta: bias.value, running: running,
                                          training: training, momentum: momentum, eps: eps)
        return record(y, [x, weight, bias]) { dy, out in
            let g = try be.batchNormBackward(x.value, gamma: weight.value, cache: cache, dy: dy, dx: out[0], dgamma: out[1],
                                             dbeta: out[2])
            return [g.dx, g.dgamma, g.dbeta]
        }
    }
}
