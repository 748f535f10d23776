import Autograd
import Kernels

// torchvision.models.inception's mixed blocks, key for key. Every convolution is a BasicConv2d
// (Conv2d without bias → BatchNorm2d eps 0.001 → ReLU); branches are concatenated along channels.

/// A named BasicConv2d list with shared helpers for the blocks below.
public class InceptionBlock: Module {
    let convs: [(String, BasicConv2d)]
    init(_ convs: [(String, BasicConv2d)]) { self.convs = convs }
    public var children: [(String, Module)] { convs.map { ($0.0, $0.1 as Module) } }
    public var training: Bool {
        get { convs.first?.1.training ?? false }
        set { for (_, c) in convs { c.training = newValue } }
    }
    func conv(_ name: String) -> BasicConv2d { convs.first { $0.0 == name }!.1 }
    /// Runs the named convolutions in order.
    func chain(_ x: Variable, _ names: [String], tape: Tape) throws -> Variable {
        try names.reduce(x) { try conv($1)($0, tape: tape) }
    }
    /// avg_pool2d(3, stride 1, padding 1, count_include_pad) → the "branch_pool" convolution.
    func averagePoolBranch(_ x: Variable, tape: Tape) throws -> Variable {
        try conv("branch_pool")(try tape.avgPool2d(x, kernel: (3, 3), stride: (1, 1), padding: (1, 1), countIncludePad: true), tape: tape)
    }
}

/// Builds a BasicConv2d with a square or rectangular kernel.
func basic(_ name: String, _ i: Int, _ o: Int, _ k: (Int, Int), stride: Int = 1, padding: (Int, Int) = (0, 0),
           _ b: Backend, _ r: inout Initializer) throws -> (String, BasicConv2d) {
    (name, try BasicConv2d(i, o, kernel: k, stride: (stride, stride), padding: padding, backend: b, initializer: &r))
}

/// InceptionA(in, pool_features): 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avgpool→1×1. Output 224 + pool_features channels.
public final class InceptionA: InceptionBlock {
    public init(_ c: Int, poolFeatures: Int, backend b: Backend, initializer r: inout Initializer) throws {
        super.init([
            try basic("branch1x1", c, 64, (1, 1), b, &r),
            try basic("branch5x5_1", c, 48, (1, 1), b, &r), try basic("branch5x5_2", 48, 64, (5, 5), padding: (2, 2), b, &r),
            try basic("branch3x3dbl_1", c, 64, (1, 1), b, &r), try basic("branch3x3dbl_2", 64, 96, (3, 3), padding: (1, 1), b, &r),
            try basic("branch3x3dbl_3", 96, 96, (3, 3), padding: (1, 1), b, &r),
            try basic("branch_pool", c, poolFeatures, (1, 1), b, &r),
        ])
    }
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.concat([try chain(x, ["branch1x1"], tape: tape), try chain(x, ["branch5x5_1", "branch5x5_2"], tape: tape),
                         try chain(x, ["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], tape: tape),
                         try averagePoolBranch(x, tape: tape)], axis: 1)
    }
}

/// InceptionB(in): 3×3 stride 2 | 1×1→3×3→3×3 stride 2 | maxpool 3 stride 2. Output 480 + in channels.
public final class InceptionB: InceptionBlock {
    public init(_ c: Int, backend b: Backend, initializer r: inout Initializer) throws {
        super.init([
            try basic("branch3x3", c, 384, (3, 3), stride: 2, b, &r),
            try basic("branch3x3dbl_1", c, 64, (1, 1), b, &r), try basic("branch3x3dbl_2", 64, 96, (3, 3), padding: (1, 1), b, &r),
            try basic("branch3x3dbl_3", 96, 96, (3, 3), stride: 2, b, &r),
        ])
    }
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.concat([try chain(x, ["branch3x3"], tape: tape),
                         try chain(x, ["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], tape: tape),
                         try tape.maxPool2d(x, kernel: (3, 3), stride: (2, 2))], axis: 1)
    }
}

/// InceptionC(in, channels_7x7): factorised 7×7 branches. Output 768 channels.
public final class InceptionC: InceptionBlock {
    public init(_ c: Int, channels7x7 c7: Int, backend b: Backend, initializer r: inout Initializer) throws {
        super.init([
            try basic("branch1x1", c, 192, (1, 1), b, &r),
            try basic("branch7x7_1", c, c7, (1, 1), b, &r), try basic("branch7x7_2", c7, c7, (1, 7), padding: (0, 3), b, &r),
            try basic("branch7x7_3", c7, 192, (7, 1), padding: (3, 0), b, &r),
            try basic("branch7x7dbl_1", c, c7, (1, 1), b, &r), try basic("branch7x7dbl_2", c7, c7, (7, 1), padding: (3, 0), b, &r),
            try basic("branch7x7dbl_3", c7, c7, (1, 7), padding: (0, 3), b, &r),
            try basic("branch7x7dbl_4", c7, c7, (7, 1), padding: (3, 0), b, &r),
            try basic("branch7x7dbl_5", c7, 192, (1, 7), padding: (0, 3), b, &r),
            try basic("branch_pool", c, 192, (1, 1), b, &r),
        ])
    }
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.concat([try chain(x, ["branch1x1"], tape: tape), try chain(x, ["branch7x7_1", "branch7x7_2", "branch7x7_3"], tape: tape),
                         try chain(x, (1...5).map { "branch7x7dbl_\($0)" }, tape: tape), try averagePoolBranch(x, tape: tape)], axis: 1)
    }
}

/// InceptionD(in): 1×1→3×3 stride 2 | 1×1→1×7→7×1→3×3 stride 2 | maxpool. Output 512 + in channels.
public final class InceptionD: InceptionBlock {
    public init(_ c: Int, backend b: Backend, initializer r: inout Initializer) throws {
        super.init([
            try basic("branch3x3_1", c, 192, (1, 1), b, &r), try basic("branch3x3_2", 192, 320, (3, 3), stride: 2, b, &r),
            try basic("branch7x7x3_1", c, 192, (1, 1), b, &r), try basic("branch7x7x3_2", 192, 192, (1, 7), padding: (0, 3), b, &r),
            try basic("branch7x7x3_3", 192, 192, (7, 1), padding: (3, 0), b, &r),
            try basic("branch7x7x3_4", 192, 192, (3, 3), stride: 2, b, &r),
        ])
    }
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        try tape.concat([try chain(x, ["branch3x3_1", "branch3x3_2"], tape: tape),
                         try chain(x, (1...4).map { "branch7x7x3_\($0)" }, tape: tape),
                         try tape.maxPool2d(x, kernel: (3, 3), stride: (2, 2))], axis: 1)
    }
}

/// InceptionE(in): 1×1 | 1×1→(1×3, 3×1) | 1×1→3×3→(1×3, 3×1) | avgpool→1×1. Output 2048 channels.
public final class InceptionE: InceptionBlock {
    public init(_ c: Int, backend b: Backend, initializer r: inout Initializer) throws {
        super.init([
            try basic("branch1x1", c, 320, (1, 1), b, &r),
            try basic("branch3x3_1", c, 384, (1, 1), b, &r), try basic("branch3x3_2a", 384, 384, (1, 3), padding: (0, 1), b, &r),
            try basic("branch3x3_2b", 384, 384, (3, 1), padding: (1, 0), b, &r),
            try basic("branch3x3dbl_1", c, 448, (1, 1), b, &r), try basic("branch3x3dbl_2", 448, 384, (3, 3), padding: (1, 1), b, &r),
            try basic("branch3x3dbl_3a", 384, 384, (1, 3), padding: (0, 1), b, &r),
            try basic("branch3x3dbl_3b", 384, 384, (3, 1), padding: (1, 0), b, &r),
            try basic("branch_pool", c, 192, (1, 1), b, &r),
        ])
    }
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        let b3 = try conv("branch3x3_1")(x, tape: tape)
        let d3 = try chain(x, ["branch3x3dbl_1", "branch3x3dbl_2"], tape: tape)
        return try tape.concat([try chain(x, ["branch1x1"], tape: tape),
                                try conv("branch3x3_2a")(b3, tape: tape), try conv("branch3x3_2b")(b3, tape: tape),
                                try conv("branch3x3dbl_3a")(d3, tape: tape), try conv("branch3x3dbl_3b")(d3, tape: tape),
                                try averagePoolBranch(x, tape: tape)], axis: 1)
    }
}
