import Autograd
import Kernels

/// MONAI WindowAttention (3D). Keys: relative_position_bias_table (T, heads), relative_position_index
/// (N, N) I64 buffer, qkv.{weight, bias} (3C, C), proj.{weight, bias} (C, C).
public final class WindowAttention: Module {
    public let dim: Int, heads: Int
    public let window: [Int]
    let table: Parameter
    let index: Buffer
    let qkv: Linear, proj: Linear
    /// Device constants per window layout (index slices, CSR, mask regions).
    private var constants: [WindowGeometry: WindowAttentionConstants] = [:]
    /// A padded token's qkv when the qkv Linear has no bias (MONAI's default): zeros, made once.
    private var zeroPad: Tensor?

    public init(dim: Int, heads: Int, window: [Int], qkvBias: Bool, backend: Backend, initializer: inout Initializer) throws {
        self.dim = dim
        self.heads = heads
        self.window = window
        let rel = RelativePositionIndex(window: window)
        table = Parameter(try backend.upload(initializer.truncatedNormal(rel.tableRows * heads, std: 0.02),
                                             shape: Shape(rel.tableRows, heads), name: "relative_position_bias_table"))
        index = Buffer(try backend.upload(rel.values.map(Float.init), shape: Shape(rel.tokens, rel.tokens),
                                          name: "relative_position_index"), fileType: .I64)
        qkv = try Linear(dim, 3 * dim, bias: qkvBias, backend: backend, initializer: &initializer)
        proj = try Linear(dim, dim, backend: backend, initializer: &initializer)
    }

    public var parameters: [(String, Parameter)] { [("relative_position_bias_table", table)] }
    public var buffers: [(String, Buffer)] { [("relative_position_index", index)] }
    public var children: [(String, Module)] { [("qkv", qkv), ("proj", proj)] }

    private func zeros(_ be: Backend) throws -> Tensor {
        let z = try zeroPad ?? be.full(Shape(3 * dim), value: 0, name: "qkv pad (no bias)")
        zeroPad = z
        return z
    }

    /// The loaded relative_position_index must equal the one computed for the window.
    public func verifyIndex(backend: Backend, key: String) throws {
        let expected = RelativePositionIndex(window: window).values.map(Float.init)
        guard try backend.download(index.value) == expected else {
            throw ConfigError(message: "\(key): relative_position_index differs from the one computed for window \(window)")
        }
    }

    private func constants(_ g: WindowGeometry, _ be: Backend) throws -> WindowAttentionConstants {
        let k = try constants[g] ?? WindowAttentionConstants(geometry: g, fullWindow: window, backend: be)
        constants[g] = k
        return k
    }

    /// The block's path: normalised tokens x (B, D, H, W, C) → attention output (B, D, H, W, C), already
    /// merged back and unshifted (MONAI's pad, roll, partition, attention, reverse, roll, crop, fused).
    /// The qkv Linear runs on the tokens; a padded token's q, k, v are the Linear's bias. With `residual` (the block's
    /// skip) the proj Linear adds it.
    public func callAsFunction(tokens x: Variable, geometry g: WindowGeometry, residual: Variable? = nil,
                               tape: Tape) throws -> Variable {
        let be = tape.backend
        let padBias = try qkv.bias?.on(tape) ?? tape.input(try zeros(be))
        let y = try tape.windowAttention(try qkv(x, tape: tape), padBias: padBias, table: table.on(tape),
                                         constants: try constants(g, be), heads: heads)
        return try proj(y, residual: residual, tape: tape)
    }

    /// MONAI WindowAttention.forward on partitioned windows (B·nW, N, C) for layout `g` → (B·nW, N, C),
    /// op by op (scores materialised). The fused path above computes the same; this one checks it and the
    /// per-layer reference files, which hold windows.
    public func callAsFunction(windows x: Variable, geometry g: WindowGeometry, tape: Tape) throws -> Variable {
        let k = try constants(g, tape.backend)
        let (bw, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        let hd = c / heads
        // (B', N, 3C) → (B', N, 3, h, hd) → (3, B', h, N, hd)
        let qkv5 = try tape.permute(try tape.reshape(try qkv(x, tape: tape), Shape(bw, n, 3, heads, hd)), [2, 0, 3, 1, 4])
        let parts = try tape.split(qkv5, sizes: [1, 1, 1], axis: 0).map { try tape.reshape($0, Shape(bw * heads, n, hd)) }
        let q = try tape.scale(parts[0], 1 / Float(hd).squareRoot())
        let scores = try tape.matmul(q, parts[1], transB: true)                      // (B'·h, N, N)
        let probs = try tape.windowAttentionSoftmax(scores, table: table.on(tape), constants: k, heads: heads)
        let out = try tape.matmul(probs, parts[2])                                   // (B'·h, N, hd)
        let merged = try tape.permute(try tape.reshape(out, Shape(bw, heads, n, hd)), [0, 2, 1, 3])
        return try proj(try tape.reshape(merged, Shape(bw, n, c)), tape: tape)
    }
}
