import Kernels

extension Tape {
    /// op(A)·op(B) for rank-2 or batched rank-3 operands.
    public func matmul(_ a: Variable, _ b: Variable, transA: Bool = false, transB: Bool = false) throws -> Variable {
        let be = backend
        return record(try be.bmm(a.value, b.value, transA: transA, transB: transB), [a, b]) { dy in
            let g = try be.bmmBackward(a.value, b.value, dc: dy, transA: transA, transB: transB)
            return [g.da, g.db]
        }
    }

    /// x·Wᵀ + b (torch.nn.Linear), plus `residual` when given (the skip around it, added by the same GEMM).
    /// x: (..., in), weight: (out, in), bias: (out), residual: (..., out).
    public func linear(_ x: Variable, weight: Variable, bias: Variable?, residual: Variable? = nil) throws -> Variable {
        let be = backend
        let y = try be.linear(x.value, weight: weight.value, bias: bias?.value, residual: residual?.value)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return record(y, inputs + (residual.map { [$0] } ?? [])) { dy, out in
            let g = try be.linearBackward(x.value, weight: weight.value, dy: dy, dx: out[0], dw: out[1],
                                          db: bias == nil ? .skip : out[2])
            return [g.dx, g.dw] + (bias == nil ? [] : [g.db]) + (residual == nil ? [] : [dy])
        }
    }

    /// f(x·Wᵀ + b): the Linear and its activation (the MLP's GELU), bias and activation in one pass.
    public func linear(_ x: Variable, weight: Variable, bias: Variable, activation: UnaryOp) throws -> Variable {
        let be = backend
        let (pre, y) = try be.linear(x.value, weight: weight.value, bias: bias.value, activation: activation)
        return record(y, [x, weight, bias]) { dy, out in
            let dpre = try be.applyBackward(activation, x: pre, dy: dy)
            let g = try be.linearBackward(x.value, weight: weight.value, dy: dpre, dx: out[0], dw: out[1], db: out[2])
            return [g.dx, g.dw, g.db]
        }
    }
}
