import Autograd
import Kernels

/// torchvision InceptionAux(in, num_classes): avgpool 5 stride 3 → 1×1 (128) → 5×5 (768) → global
/// average → Linear. Keys conv0.*, conv1.*, fc.*.
public final class InceptionAux: Module {
    let conv0: BasicConv2d, conv1: BasicConv2d
    let fc: Linear

    public init(_ c: Int, classes: Int, backend b: Backend, initializer r: inout Initializer) throws {
        conv0 = try BasicConv2d(c, 128, kernel: (1, 1), backend: b, initializer: &r)
        conv1 = try BasicConv2d(128, 768, kernel: (5, 5), backend: b, initializer: &r)
        fc = try Linear(768, classes, backend: b, initializer: &r)
    }
    public var children: [(String, Module)] { [("conv0", conv0), ("conv1", conv1), ("fc", fc)] }
    public var training: Bool {
        get { conv0.training }
        set { conv0.training = newValue; conv1.training = newValue }
    }
    /// x: (N, 768, 17, 17) → (N, classes)
    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable {
        var h = try tape.avgPool2d(x, kernel: (5, 5), stride: (3, 3))
        h = try conv1(try conv0(h, tape: tape), tape: tape)
        h = try tape.adaptiveAvgPool2d(h, outputSize: (1, 1))
        return try fc(try tape.reshape(h, Shape(h.shape[0], h.shape[1])), tape: tape)
    }
}

/// The classifier on the 2048 pooled features.
public enum InceptionHead: Sendable, Equatable {
    /// torchvision's `fc = Linear(2048, classes)` (after dropout).
    case linear
    /// The paper's `fc = Sequential(Linear(2048, 1024), ReLU, Dropout, Linear(1024, 256), ReLU, Dropout,
    /// Linear(256, classes))`: keys fc.0, fc.3, fc.6.
    case mlp(dropout: Float)
}

/// torchvision `inception_v3(weights=None, aux_logits=..., init_weights=...)`, key for key, with
/// `transform_input` False (as torchvision without pretrained weights). Input (N, 3, 299, 299).
public final class InceptionV3: Module {
    public let classes: Int
    public let head: InceptionHead
    let stem: [(String, BasicConv2d)]
    let mixed: [(String, Module)]
    public let aux: InceptionAux?
    public let fcLayers: [(String, Linear)]
    public var dropout: Float = 0.5
    /// torchvision's transform_input (True only with its pretrained weights): channel c ↦
    /// x·(std_c / 0.5) + (mean_c − 0.5) / 0.5 with ImageNet's mean and std.
    public var transformInput = false

    public init(classes: Int = 3, auxLogits: Bool = false, head: InceptionHead = .mlp(dropout: 0.5), backend b: Backend,
                seed: UInt64 = 0) throws {
        self.classes = classes
        self.head = head
        var r = Initializer(seed: seed)
        stem = [
            try basic("Conv2d_1a_3x3", 3, 32, (3, 3), stride: 2, b, &r), try basic("Conv2d_2a_3x3", 32, 32, (3, 3), b, &r),
            try basic("Conv2d_2b_3x3", 32, 64, (3, 3), padding: (1, 1), b, &r), try basic("Conv2d_3b_1x1", 64, 80, (1, 1), b, &r),
            try basic("Conv2d_4a_3x3", 80, 192, (3, 3), b, &r),
        ]
        mixed = [
            ("Mixed_5b", try InceptionA(192, poolFeatures: 32, backend: b, initializer: &r)),
            ("Mixed_5c", try InceptionA(256, poolFeatures: 64, backend: b, initializer: &r)),
            ("Mixed_5d", try InceptionA(288, poolFeatures: 64, backend: b, initializer: &r)),
            ("Mixed_6a", try InceptionB(288, backend: b, initializer: &r)),
            ("Mixed_6b", try InceptionC(768, channels7x7: 128, backend: b, initializer: &r)),
            ("Mixed_6c", try InceptionC(768, channels7x7: 160, backend: b, initializer: &r)),
            ("Mixed_6d", try InceptionC(768, channels7x7: 160, backend: b, initializer: &r)),
            ("Mixed_6e", try InceptionC(768, channels7x7: 192, backend: b, initializer: &r)),
            ("Mixed_7a", try InceptionD(768, backend: b, initializer: &r)),
            ("Mixed_7b", try InceptionE(1280, backend: b, initializer: &r)),
            ("Mixed_7c", try InceptionE(2048, backend: b, initializer: &r)),
        ]
        aux = auxLogits ? try InceptionAux(768, classes: classes, backend: b, initializer: &r) : nil
        switch head {
        case .linear: fcLayers = [("fc", try Linear(2048, classes, backend: b, initializer: &r))]
        case let .mlp(p):
            dropout = p
            fcLayers = [("0", try Linear(2048, 1024, backend: b, initializer: &r)), ("3", try Linear(1024, 256, backend: b, initializer: &r)),
                        ("6", try Linear(256, classes, backend: b, initializer: &r))]
        }
    }

    public var children: [(String, Module)] {
        let fc: [(String, Module)] = head == .linear ? [("fc", fcLayers[0].1)] : [("fc", Container(fcLayers.map { ($0.0, $0.1 as Module) }))]
        return stem.map { ($0.0, $0.1 as Module) } + mixed.prefix(8).map { $0 } + (aux.map { [("AuxLogits", $0 as Module)] } ?? [])
            + mixed.suffix(3).map { $0 } + fc
    }

    /// Train mode: BatchNorm uses batch statistics (and updates the running ones), dropout is on.
    public var training = false {
        didSet {
            for (_, c) in stem { c.training = training }
            for (_, m) in mixed { (m as! InceptionBlock).training = training }
            aux?.training = training
        }
    }

    public struct Outputs {
        public let logits: Variable        // (N, classes)
        public let auxLogits: Variable?    // (N, classes) in training mode with the auxiliary head
        public let features: Variable      // (N, 2048) pooled
        public let lastMixed: Variable     // (N, 2048, 8, 8): Mixed_7c, for Grad-CAM
    }

    /// x: (N, 3, 299, 299) → logits. `seed` drives the dropout masks in training mode.
    public func forward(_ x: Variable, tape: Tape, seed: UInt64 = 0) throws -> Outputs {
        let (last, auxOut) = try features(x, tape: tape)
        let (logits, pooled) = try classify(last, tape: tape, seed: seed)
        return Outputs(logits: logits, auxLogits: auxOut, features: pooled, lastMixed: last)
    }

    /// The convolutional part: x (N, 3, H, W) → Mixed_7c's output (N, 2048, h, w) (and the auxiliary
    /// logits in training mode with the auxiliary head).
    public func features(_ x: Variable, tape: Tape) throws -> (lastMixed: Variable, aux: Variable?) {
        try Check.that(x.shape.rank == 4 && x.shape[1] == 3, "InceptionV3", "input must be (N, 3, H, W), got \(x.shape)")
        try Check.that(x.shape[2] >= 75 && x.shape[3] >= 75, "InceptionV3", "input \(x.shape) is smaller than 75 × 75")
        var h = transformInput ? try Self.applyTransformInput(x, tape: tape) : x
        for (i, (_, c)) in stem.enumerated() {
            h = try c(h, tape: tape)
            if i == 2 || i == 4 { h = try tape.maxPool2d(h, kernel: (3, 3), stride: (2, 2)) }
        }
        var auxOut: Variable?
        for (i, (_, m)) in mixed.enumerated() {
            switch m {
            case let a as InceptionA: h = try a(h, tape: tape)
            case let b as InceptionB: h = try b(h, tape: tape)
            case let c as InceptionC: h = try c(h, tape: tape)
            case let d as InceptionD: h = try d(h, tape: tape)
            case let e as InceptionE: h = try e(h, tape: tape)
            default: fatalError("unknown Inception block")
            }
            if i == 7, training, let aux { auxOut = try aux(h, tape: tape) }
        }
        return (h, auxOut)
    }

    /// The per-channel affine map of transform_input, as a 1×1 convolution with a diagonal weight.
    public static func applyTransformInput(_ x: Variable, tape: Tape) throws -> Variable {
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        var w = [Float](repeating: 0, count: 9)
        for c in 0..<3 { w[c * 3 + c] = std[c] / 0.5 }
        let b = tape.backend
        let weight = try b.upload(w, shape: Shape(3, 3, 1, 1), name: "transform_input scale")
        let bias = try b.upload((0..<3).map { (mean[$0] - 0.5) / 0.5 }, shape: Shape(3), name: "transform_input shift")
        return try tape.conv2d(x, weight: tape.input(weight), bias: tape.input(bias))
    }

    /// Global average pooling and the head: Mixed_7c's output → (logits (N, classes), pooled (N, 2048)).
    public func classify(_ last: Variable, tape: Tape, seed: UInt64 = 0) throws -> (logits: Variable, pooled: Variable) {
        let pooled = try tape.adaptiveAvgPool2d(last, outputSize: (1, 1))
        let features = try tape.reshape(pooled, Shape(pooled.shape[0], 2048))
        var y = features
        // torchvision's Inception3 applies its dropout before `fc` whatever `fc` is (the paper's MLP replaces `fc`).
        if training { y = try tape.dropout(y, p: dropout, seed: seed) }
        switch head {
        case .linear:
            y = try fcLayers[0].1(y, tape: tape)
        case .mlp:
            for (i, (_, l)) in fcLayers.enumerated() {
                y = try l(y, tape: tape)
                if i < 2 {
                    y = try tape.relu(y)
                    if training { y = try tape.dropout(y, p: dropout, seed: seed &+ UInt64(i + 1)) }
                }
            }
        }
        return (y, features)
    }

    public func callAsFunction(_ x: Variable, tape: Tape) throws -> Variable { try forward(x, tape: tape).logits }

    /// Every BatchNorm2d of the network (for `update_bn` after weight averaging).
    public var batchNorms: [BatchNorm2d] { namedBatchNorms(prefix: "").map(\.1) }
}
