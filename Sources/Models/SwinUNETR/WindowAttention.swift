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

    /// The loaded relative_position_index must equal the one computed for the window.
    public func verifyIndex(backend: Backend, key: String) throws {
        let expected = RelativePositionIndex(window: window).values.map(Float.init)
        guard try backend.download(index.value) == expected else {
            throw ConfigError(message: "\(key): relative_position_index differs from the one computed for window \(window)")
        }
    }

    /// windows: (B·nW, N, C) for layout `g` → (B·nW, N, C)
    public func callAsFunction(_ x: Variable, geometry g: WindowGeometry, tape: Tape) throws -> Variable {
        let be = tape.backend
        let k = try constants[g] ?? WindowAttentionConstants(geometry: g, fullWindow: window, backend: be)
        constants[g] = k
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
