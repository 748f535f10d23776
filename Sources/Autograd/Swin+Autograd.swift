import Kernels

/// Device-side constants of one attention layout: the sliced relative position index, its CSR
/// inverse for the table gradient, and the shift-mask regions (nil for unshifted blocks).
public struct WindowAttentionConstants {
    public let relIndex: Tensor      // (N_full, N_full) exact integers as floats
    public let indexStride: Int      // N_full
    public let gradPtr: Tensor       // (T + 1)
    public let gradList: Tensor      // (N·N)
    public let region: Tensor?       // (nW, N)
    public let geometry: WindowGeometry

    public init(geometry g: WindowGeometry, fullWindow: [Int], backend: Backend) throws {
        let index = RelativePositionIndex(window: fullWindow)
        relIndex = try backend.upload(index.values.map(Float.init), shape: Shape(index.tokens, index.tokens), name: "relative_position_index")
        indexStride = index.tokens
        let inv = index.inverse(tokens: g.tokens)
        gradPtr = try backend.upload(inv.ptr, shape: Shape(inv.ptr.count), name: "bias grad ptr")
        gradList = try backend.upload(inv.list, shape: Shape(inv.list.count), name: "bias grad list")
        region = g.isShifted ? try backend.upload(shiftMaskRegions(g), shape: Shape(g.windowsPerSample, g.tokens), name: "shift mask regions") : nil
        geometry = g
    }
}

extension Tape {
    public func windowPartition(_ x: Variable, _ g: WindowGeometry) throws -> Variable {
        let be = backend
        return record(try be.windowPartition(x.value, g), [x]) { dy in [try be.windowMerge(dy, g)] }
    }

    public func windowMerge(_ w: Variable, _ g: WindowGeometry) throws -> Variable {
        let be = backend
        return record(try be.windowMerge(w.value, g), [w]) { dy in [try be.windowPartition(dy, g)] }
    }

    public func patchMerge(_ x: Variable) throws -> Variable {
        let be = backend
        let shape = x.shape
        return record(try be.patchMerge(x.value), [x]) { dy in [try be.patchMergeBackward(dy: dy, inputShape: shape)] }
    }

    /// Fused shifted-window attention (Ops/WindowAttention.swift): qkv (B, D, H, W, 3C) → (B, D, H, W, C).
    /// `padBias` (3C) is what a padded token's qkv holds (the qkv Linear's bias); table (T, heads).
    public func windowAttention(_ qkv: Variable, padBias: Variable, table: Variable, constants k: WindowAttentionConstants,
                                heads: Int) throws -> Variable {
        let be = backend
        let inputs = WindowAttentionInputs(qkv: qkv.value, padBias: padBias.value, table: table.value, relIndex: k.relIndex,
                                           indexStride: k.indexStride, region: k.region, geometry: k.geometry, heads: heads)
        let tRows = table.shape[0]
        try Check.that(k.gradPtr.count == tRows + 1, "windowAttention", "table \(table.shape) does not fit the index")
        let (y, lse) = try be.windowAttention(inputs)
        return record(y, [qkv, padBias, table]) { dy, out in
            let g = try be.windowAttentionGradients(inputs, y: y, lse: lse, dy: dy, padBias: out[1])
            guard let dt = try out[2].target(table.shape, name: "relative_position_bias_table grad", on: be) else {
                return [g.dqkv, g.dPadBias, nil]
            }
            try be.indexGatherSum(src: g.dBiasPerHead, ptr: k.gradPtr, list: k.gradList, rows: tRows, heads: heads,
                                  stride: k.geometry.tokens * k.geometry.tokens, out: dt, accumulate: out[2].accumulates)
            return [g.dqkv, g.dPadBias, dt]
        }
    }

    /// softmax(scores + table[index] (+ shift mask)); scores (B·nW·heads, N, N), table (T, heads).
    public func windowAttentionSoftmax(_ scores: Variable, table: Variable, constants k: WindowAttentionConstants,
                                       heads: Int) throws -> Variable {
        let be = backend
        let n = k.geometry.tokens
        let tRows = table.shape[0]
        try Check.shape(scores.value, Shape(k.geometry.batch * k.geometry.windowsPerSample * heads, n, n), "windowAttentionSoftmax")
        try Check.that(table.shape.rank == 2 && table.shape[1] == heads && k.gradPtr.count == tRows + 1,
                       "windowAttentionSoftmax", "table \(table.shape) does not fit \(heads) heads and the index")
        let y = try be.allocate(scores.shape, name: "attention probabilities")
        try be.windowAttentionSoftmax(scores: scores.value, table: table.value, relIndex: k.relIndex,
                                      indexStride: k.indexStride, region: k.region,
                                      windowsPerSample: k.geometry.windowsPerSample, heads: heads, tokens: n, y: y)
        return record(y, [scores, table]) { dy in
            let ds = try be.softmaxBackward(y: y, dy: dy)
            guard table.requiresGrad else { return [ds, nil] }
            let perHead = try be.allocate(Shape(heads, n * n), name: "bias grad per head")
            try be.sumKeepingMiddle(ds, dims: Dims3(ds.count / (heads * n * n), heads * n * n, 1), into: perHead)
            let dt = try be.allocate(table.shape, name: "relative_position_bias_table grad")
            try be.indexGatherSum(src: perHead, ptr: k.gradPtr, list: k.gradList, rows: tRows, heads: heads,
                                  stride: n * n, out: dt, accumulate: false)
            return [ds, dt]
        }
    }
}
