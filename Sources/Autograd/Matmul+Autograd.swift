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

    /// x·Wᵀ + b (torch.nn.Linear). x: (..., in), weight: (out, in), bias: (out).
    public func linear(_ x: Variable, weight: Variable, bias: Variable?) throws -> Variable {
        let be = backend
        let y = try be.linear(x.value, weight: weight.value, bias: bias?.value)
        return record(y, [x, weight] + (bias.map { [$0] } ?? [])) { dy, out in
            let g = try be.linearBackward(x.value, weight: weight.value, dy: dy, dx: out[0], dw: out[1],
                                          db: bias == nil ? .skip : out[2])
            return [g.dx, g.dw] + (bias == nil ? [] : [g.db])
        }
    }
}
