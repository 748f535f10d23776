// Launchers for kernels/swin.cl.
extension OpenCLBackend {
    private func windowArgs(_ g: WindowGeometry) -> [Arg] {
        ([g.batch] + g.size + [g.channels] + g.padded + g.window + g.shift).map { .int($0) }
    }

    public func windowPartition(x: Tensor, geometry g: WindowGeometry, windows: Tensor) throws {
        try launch(.window_partition, global: windows.count, [.buffer(x), .buffer(windows)] + windowArgs(g))
    }

    public func windowMerge(windows: Tensor, geometry g: WindowGeometry, x: Tensor) throws {
        try launch(.window_merge, global: x.count, [.buffer(windows), .buffer(x)] + windowArgs(g))
    }

    public func windowAttentionSoftmax(scores: Tensor, table: Tensor, relIndex: Tensor, indexStride: Int, region: Tensor?,
                                       windowsPerSample nW: Int, heads: Int, tokens n: Int, y: Tensor) throws {
        let rows = scores.count / n
        try launch(.window_attention_softmax, global: rows,
                   [.buffer(scores), .buffer(table), .buffer(relIndex), .buffer(region ?? relIndex), .buffer(y),
                    .int(rows), .int(heads), .int(n), .int(nW), .int(indexStride), .int(region == nil ? 0 : 1)])
    }

    public func indexGatherSum(src: Tensor, ptr: Tensor, list: Tensor, rows: Int, heads: Int, stride: Int,
                               out: Tensor, accumulate: Bool) throws {
        // The finishing pass of the bias gradient (src holds its per-(head, i, j) sums), lanes per output so that a
        // small table still spans enough work-items.
        let outputs = rows * heads, lanes = OpenCLBackend.lanes(for: outputs, group: 64)
        try launch(.index_gather_sum, global: (outputs + 64 / lanes - 1) / (64 / lanes) * 64, local: 64,
                   finishing: src.count,
                   [.buffer(src), .buffer(ptr), .buffer(list), .buffer(out), .int(rows), .int(heads), .int(stride),
                    .float(accumulate ? 1 : 0), .int(lanes)])
    }

    public func patchMerge(x: Tensor, dims s: (b: Int, d: Int, h: Int, w: Int, c: Int), y: Tensor) throws {
        try launch(.patch_merge, global: y.count, [.buffer(x), .buffer(y), .int(s.b), .int(s.d), .int(s.h), .int(s.w), .int(s.c)])
    }

    public func patchMergeBackward(dy: Tensor, dims s: (b: Int, d: Int, h: Int, w: Int, c: Int), dx: Tensor) throws {
        try launch(.patch_merge_backward, global: dx.count,
                   [.buffer(dy), .buffer(dx), .int(s.b), .int(s.d), .int(s.h), .int(s.w), .int(s.c)])
    }
}
