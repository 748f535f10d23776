/// Geometry that is fixed per model layer, compiled into a program as `-D` defines (the one place these are
/// made): index arithmetic by constants folds to multiplications and per-row arrays get their exact size, so they
/// live in registers. The kernels read the same values as arguments when a program is built without them
/// (`OpenCLBackend.specializeKernels = false`), so either build gives the same results. The program cache keeps
/// one program per distinct set (a Swin UNETR step has a few dozen).
struct KernelDefines: Hashable {
    /// "NAME=value" in a fixed order.
    let items: [String]

    static let none = KernelDefines(items: [])

    /// The build-option text, e.g. " -DCONV_FIXED=1 -DCONV_C=48 ...".
    var options: String { items.map { " -D\($0)" }.joined() }

    /// conv.cl's im2col, col2im and implicit GEMM for one convolution geometry.
    static func conv(_ g: ConvGeometry) -> KernelDefines {
        let o = g.output
        let pairs: [(String, Int)] = [
            ("C", g.channels), ("D", g.input.d), ("H", g.input.h), ("W", g.input.w), ("DO", o.d), ("HO", o.h), ("WO", o.w),
            ("KD", g.kernel.d), ("KH", g.kernel.h), ("KW", g.kernel.w), ("SD", g.stride.d), ("SH", g.stride.h),
            ("SW", g.stride.w), ("PD", g.padding.d), ("PH", g.padding.h), ("PW", g.padding.w),
        ]
        return KernelDefines(items: ["CONV_FIXED=1"] + pairs.map { "CONV_\($0.0)=\($0.1)" })
    }

    /// window_attention.cl for one Swin stage (everything but the batch size).
    static func attention(_ a: WindowAttentionInputs) -> KernelDefines {
        let g = a.geometry
        let pairs: [(String, Int)] = [
            ("D", g.size[0]), ("H", g.size[1]), ("W", g.size[2]), ("C", g.channels), ("DP", g.padded[0]),
            ("HP", g.padded[1]), ("WP", g.padded[2]), ("W0", g.window[0]), ("W1", g.window[1]), ("W2", g.window[2]),
            ("S0", g.shift[0]), ("S1", g.shift[1]), ("S2", g.shift[2]), ("HEADS", a.heads),
        ]
        return KernelDefines(items: ["ATTN_FIXED=1"] + pairs.map { "ATTN_\($0.0)=\($0.1)" })
    }
}
