import Foundation

/// A device that owns tensors and runs the raw kernels. Two implementations: `CPUBackend`
/// (plain Swift + OpenBLAS, the reference) and `OpenCLBackend` (kernels/*.cl + CLBlast).
///
/// The requirements are the raw kernels with explicit sizes; callers use the validated,
/// allocating ops in `Ops/` (`backend.conv3d(...)`, `backend.layerNormBackward(...)`), which
/// check shapes and throw `ShapeError` before anything is enqueued.
/// Outputs come first, then inputs; every raw kernel overwrites its output unless it says `+=`.
public protocol Backend: AnyObject {
    /// "cpu" or "opencl:0 (pthread-haswell ...)".
    var deviceName: String { get }

    // MARK: memory
    /// A new uninitialised tensor; throws `DeviceError.outOfMemory` naming `name`.
    func allocate(_ shape: Shape, name: String) throws -> Tensor
    func upload(_ values: [Float], shape: Shape, name: String) throws -> Tensor
    func download(_ tensor: Tensor) throws -> [Float]
    /// Everything enqueued so far, as a point that a later `write(_:into:after:)` waits for (the CPU backend's has
    /// always passed).
    func fence() throws -> DeviceFence
    /// Copies `values` into `tensor` without waiting for the device, once `after` has passed: a fence taken after
    /// the last work that touched `tensor` (for a new tensor, after its allocation: pooled memory may still have work
    /// pending). OpenCL stages the values in pinned host memory and copies them on a second queue, so the copy
    /// overlaps the work enqueued between `after` and this call, which must not touch `tensor`; work enqueued after
    /// this call sees the new values. The caller's array may change as soon as this returns.
    func write(_ values: [Float], into tensor: Tensor, after: DeviceFence) throws
    /// Starts reading `tensor` back without waiting; `wait()` on the result blocks until the values are there.
    func beginDownload(_ tensor: Tensor) throws -> PendingDownload
    /// `shape.count` floats of `base` from element `offset`, as a tensor sharing its memory (the parameter arena's
    /// per-key tensors). `offset` must be a multiple of `viewAlignment`; `base` lives while a view does.
    func view(of base: Tensor, offset: Int, shape: Shape, name: String) throws -> Tensor
    /// Element alignment of view offsets (OpenCL: the device's CL_DEVICE_MEM_BASE_ADDR_ALIGN).
    var viewAlignment: Int { get }
    /// Waits until every enqueued kernel has finished.
    func synchronize() throws
    var memory: MemoryStats { get }

    // MARK: elementwise (Ops/Elementwise.swift)
    func fill(_ y: Tensor, value: Float) throws
    func unary(_ op: UnaryOp, x: Tensor, y: Tensor) throws
    /// dx = f'(x) * dy
    func unaryBackward(_ op: UnaryOp, x: Tensor, dy: Tensor, dx: Tensor) throws
    func binary(_ op: BinaryOp, a: Tensor, b: Tensor, y: Tensor) throws
    /// y += alpha * x
    func axpy(alpha: Float, x: Tensor, y: Tensor) throws
    /// y = act(a + b) (the residual join of MONAI's UnetResBlock).
    func addActivated(a: Tensor, b: Tensor, activation: FusedActivation, y: Tensor) throws
    /// y viewed as `dims` = base (nil: y itself) + src broadcast along the other axes (`.middle`: src[b]; `.outer`:
    /// src[a, c]).
    func broadcastAdd(y: Tensor, base: Tensor?, src: Tensor, dims: Dims3, along: Dims3.Keep) throws
    /// pre (rows, columns) += bias[column], then y = f(pre): a Linear's bias and activation in one pass.
    func biasUnary(_ op: UnaryOp, pre: Tensor, bias: Tensor, columns: Int, y: Tensor) throws
    /// y[i] = 1/(1-p) where kept, 0 where dropped; the same mask on every backend for a seed.
    func dropoutMask(y: Tensor, p: Float, seed: UInt64) throws

    // MARK: reductions (Ops/Reduce.swift)
    /// `.middle`: y[b] = Σ_{a,c} x[a,b,c]; `.outer`: y[a,c] = Σ_b x[a,b,c]. With `accumulate`, y += the sums.
    func reduceSum(x: Tensor, dims: Dims3, keep: Dims3.Keep, y: Tensor, accumulate: Bool) throws

    // MARK: GEMM (Ops/Matmul.swift)
    /// C = alpha · op(A) · op(B) + beta · C, row-major, strided batches.
    func gemm(_ args: GemmArgs, a: Tensor, b: Tensor, c: Tensor) throws
    /// A sum of GEMMs into C (m × n at cOffset, leading dimension ldc) over `totalK` values of k in all; each added
    /// GEMM carries C's placement in its own args too.
    func beginGemmSum(into c: Tensor, m: Int, n: Int, ldc: Int, cOffset: Int, totalK: Int) throws -> GemmSum

    // MARK: softmax over the last axis (Ops/Softmax.swift)
    func softmax(x: Tensor, y: Tensor, rows: Int, cols: Int) throws
    func softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor, rows: Int, cols: Int) throws

    // MARK: normalisation family (Ops/Normalization.swift); x viewed as `dims`, statistics per b.
    // `activation` follows the normalisation (non-affine only): y = act(x̂); the backward kernels take dy of act's
    // output and fold act' (from x̂'s sign) into it.
    /// mean, variance, rstd per b and y = act((x − mean)·rstd·gamma + beta): statistics and apply in one call (one
    /// kernel on OpenCL where a work-group takes a whole group).
    func normalize(x: Tensor, dims: Dims3, eps: Float, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                   activation: FusedActivation, mean: Tensor, variance: Tensor, rstd: Tensor, y: Tensor) throws
    func normApply(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?, beta: Tensor?,
                   activation: FusedActivation, dims: Dims3, y: Tensor) throws
    /// s1[b] = Σ dy·g, s2[b] = Σ dy·g·x̂ (g = gamma[k], or 1 without gamma; dy times act'(x̂)).
    func normBackwardSums(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                          activation: FusedActivation, dy: Tensor, dims: Dims3, s1: Tensor, s2: Tensor) throws
    /// The sums s1, s2 as `normBackwardSums` (unless the statistics are constants), then dx = rstd·(dy·g −
    /// (s1 + x̂·s2)/M), or rstd·dy·g when they are (dy times act'(x̂)); `accumulate`: dx += that. One kernel on
    /// OpenCL where a work-group takes a whole group.
    func normBackward(x: Tensor, mean: Tensor, rstd: Tensor, affine: NormAffine, gamma: Tensor?,
                      activation: FusedActivation, dy: Tensor, dims: Dims3, constantStats: Bool, s1: Tensor, s2: Tensor,
                      dx: Tensor, accumulate: Bool) throws
    /// Per-column affine gradients (LayerNorm, dims.outer == 1): dgamma[c] = Σ_b dy·x̂, dbeta[c] = Σ_b dy
    /// (`accumulate`: +=).
    func normColumnParamGrads(x: Tensor, mean: Tensor, rstd: Tensor, dy: Tensor, dims: Dims3,
                              dgamma: Tensor, dbeta: Tensor, accumulate: Bool) throws

    // MARK: convolution rearrangements (Ops/Convolution.swift)
    /// Floats of the im2col column buffer per slab of output depths: larger slabs mean fewer, larger launches.
    var convWorkspaceFloats: Int { get }
    /// The column buffer of a convolution slab, `shape.count` ≤ its capacity: one buffer kept by the backend and
    /// grown to the largest slab asked for, so convolutions of different sizes do not leave one cached buffer each.
    /// Valid until the next call (kernels on one in-order queue read it before the next slab overwrites it).
    func columnWorkspace(_ shape: Shape) throws -> Tensor
    /// col (samples, C·K, nd·Ho·Wo) from `samples` consecutive samples x[xOffset...] (each C·D·H·W) for output depths
    /// [d0, d0+nd).
    func im2col(x: Tensor, xOffset: Int, geometry: ConvGeometry, d0: Int, nd: Int, samples: Int, col: Tensor) throws
    /// col (samples, C·K, nd·Ho·Wo) of output depths [d0, d0+nd) folded back into `samples` consecutive samples
    /// dx[dxOffset...]: added into the input depths below `fresh`, written over those from `fresh` on, over
    /// `geometry.col2imLaunchDepths(d0:nd:fresh:last:)` (so a sample's slabs in order, each with `fresh` past the depths
    /// the earlier ones reached, overwrite it whole).
    func col2im(col: Tensor, geometry: ConvGeometry, d0: Int, nd: Int, samples: Int, dx: Tensor, dxOffset: Int,
                fresh: Int, last: Bool) throws
    /// out[outOffset...] (samples, O, Do·Ho·Wo) = W (O, C·K) · im2col(input[inOffset...]) for `samples` consecutive
    /// samples: im2col + GEMM (`im2colConvForward`), or on OpenCL optionally an implicit GEMM (`ConvAlgorithm`).
    func convForward(input: Tensor, inOffset: Int, samples: Int, geometry: ConvGeometry, weight: Tensor, outChannels: Int,
                     out: Tensor, outOffset: Int) throws

    // MARK: pooling (Ops/Pooling.swift)
    func maxPool2d(x: Tensor, geometry: PoolGeometry, y: Tensor, argmax: Tensor) throws
    func maxPool2dBackward(dy: Tensor, argmax: Tensor, geometry: PoolGeometry, dx: Tensor) throws
    func avgPool2d(x: Tensor, geometry: PoolGeometry, countIncludePad: Bool, y: Tensor) throws
    func avgPool2dBackward(dy: Tensor, geometry: PoolGeometry, countIncludePad: Bool, dx: Tensor) throws
    func adaptiveAvgPool2d(x: Tensor, geometry: PoolGeometry, y: Tensor) throws
    func adaptiveAvgPool2dBackward(dy: Tensor, geometry: PoolGeometry, dx: Tensor) throws

    // MARK: Swin transformer (Ops/Swin.swift), channels-last
    /// windows (B·nW, N, C) ← x (B, D, H, W, C): pad, roll by −shift, partition.
    func windowPartition(x: Tensor, geometry: WindowGeometry, windows: Tensor) throws
    /// x (B, D, H, W, C) ← windows: the inverse (window_reverse, roll by +shift, crop).
    func windowMerge(windows: Tensor, geometry: WindowGeometry, x: Tensor) throws
    /// y = softmax(scores + table[relIndex] (+ −100 shift mask)) per row; scores (B·nW, heads, N, N).
    func windowAttentionSoftmax(scores: Tensor, table: Tensor, relIndex: Tensor, indexStride: Int, region: Tensor?,
                                windowsPerSample: Int, heads: Int, tokens: Int, y: Tensor) throws
    /// Fused shifted-window attention (Ops/WindowAttention.swift): y (B, D, H, W, C) and the row
    /// log-sum-exp lse (B·nW·heads·N) from qkv (B, D, H, W, 3C), reading windows in place.
    func windowAttentionForward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor) throws
    /// Its gradients: dqkv (B, D, H, W, 3C), dPadBias (3C; nil: not wanted; added into with `accumulatePad`),
    /// dBiasPerHead (heads, N·N) summed over windows.
    func windowAttentionBackward(_ a: WindowAttentionInputs, y: Tensor, lse: Tensor, dy: Tensor, dqkv: Tensor,
                                 dPadBias: Tensor?, accumulatePad: Bool, dBiasPerHead: Tensor) throws
    /// out[t, k] = Σ_{q ∈ [ptr[t], ptr[t+1])} src[k·stride + list[q]]; out (T, K) (`accumulate`: +=).
    func indexGatherSum(src: Tensor, ptr: Tensor, list: Tensor, rows: Int, heads: Int, stride: Int, out: Tensor,
                        accumulate: Bool) throws
    /// MONAI PatchMerging's gather: y (B, ⌈D/2⌉, ⌈H/2⌉, ⌈W/2⌉, 8C) ← x (B, D, H, W, C).
    func patchMerge(x: Tensor, dims: (b: Int, d: Int, h: Int, w: Int, c: Int), y: Tensor) throws
    func patchMergeBackward(dy: Tensor, dims: (b: Int, d: Int, h: Int, w: Int, c: Int), dx: Tensor) throws

    // MARK: losses (Ops/Losses.swift)
    /// MONAI DiceCELoss(to_onehot_y, softmax) forward: probs (B, C, S), sums (B·C·3: Σp·y, Σp, Σy),
    /// loss (3: total, dice part, CE part). labels (B, S) hold class ids.
    func diceCEForward(logits: Tensor, labels: Tensor, dims: Dims3, options: DiceCEOptions, probs: Tensor,
                       sums: Tensor, loss: Tensor) throws
    /// dlogits = upstream[0] · d loss / d logits.
    func diceCEBackward(probs: Tensor, labels: Tensor, sums: Tensor, upstream: Tensor, dims: Dims3,
                        options: DiceCEOptions, dlogits: Tensor) throws
    /// probs (N, C) = softmax(logits); rowLoss (N) = −Σ targets·log softmax(logits) (soft targets).
    func crossEntropyRows(logits: Tensor, targets: Tensor, probs: Tensor, rowLoss: Tensor, rows: Int, cols: Int) throws
    /// dlogits = upstream[0] · scale · (probs − targets)
    func crossEntropyRowsBackward(probs: Tensor, targets: Tensor, upstream: Tensor, scale: Float, dlogits: Tensor) throws
    /// y (N, D) = x / max(‖x‖, eps) per row; norms (N) = ‖x‖.
    func rowNormalize(x: Tensor, y: Tensor, norms: Tensor, rows: Int, cols: Int, eps: Float) throws
    func rowNormalizeBackward(y: Tensor, norms: Tensor, dy: Tensor, dx: Tensor, rows: Int, cols: Int, eps: Float) throws

    // MARK: boxes of (C, D, H, W) volumes (Ops/Boxes.swift): sliding-window inference
    /// dst[dstOffset...] (C, dst box) = src[srcOffset...] (C, src box) read at +offset; 0 outside src.
    func boxCopy(src: Tensor, srcOffset: Int, srcBox: [Int], dst: Tensor, dstOffset: Int, dstBox: [Int], channels: Int,
                 offset: [Int]) throws
    /// dst (C, box) at `at` += src[srcOffset...] (C, roi) · weight (roi); count (box) at `at` += weight.
    func boxAccumulate(src: Tensor, srcOffset: Int, roi: [Int], weight: Tensor, dst: Tensor, count: Tensor?,
                       box: [Int], channels: Int, at: [Int]) throws
    /// x (C, S) /= count (S)
    func boxNormalize(x: Tensor, count: Tensor, channels: Int) throws

    // MARK: optimiser (Ops/Optimizer.swift)
    /// One AdamW update of elements `range` of p, m, v in place from g (PyTorch's arithmetic; see kernels/optim.cl).
    /// With a `gate` (1 float), nothing changes unless gate[0] != 0.
    func adamwStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, range: Range<Int>, hyper: AdamWHyper, step: Int,
                   gate: Tensor?) throws
    /// gate[0] = 1 if it was non-zero and every element of `values` is finite, else 0 (sticky).
    func finiteGate(values: Tensor, gate: Tensor) throws

    // MARK: layout (Ops/Layout.swift)
    /// y = x with axes permuted: y's axis k is x's axis perm[k].
    func permute(x: Tensor, dims: [Int], perm: [Int], y: Tensor) throws
    /// dst[dstOffset + r·dstStride + j] = src[srcOffset + r·srcStride + j] for r < rows, j < length.
    func copyBlock(src: Tensor, srcOffset: Int, srcStride: Int, dst: Tensor, dstOffset: Int, dstStride: Int,
                   rows: Int, length: Int) throws
}

/// A point in a backend's stream of work (`Backend.fence()`): an OpenCL marker event, or nothing on the CPU backend.
public final class DeviceFence {
    let marker: AnyObject?
    init(marker: AnyObject?) { self.marker = marker }
}

extension Backend {
    /// Copies `values` into `tensor` without waiting, after everything enqueued so far (ordered like a kernel).
    public func write(_ values: [Float], into tensor: Tensor) throws { try write(values, into: tensor, after: fence()) }
}

/// A read from the device that was started without waiting (`Backend.beginDownload`).
public final class PendingDownload {
    private var finish: (() throws -> [Float])?
    private var values: [Float]?

    public init(_ finish: @escaping () throws -> [Float]) { self.finish = finish }

    /// Blocks until the values have arrived (once; later calls return them again).
    public func wait() throws -> [Float] {
        if let values { return values }
        let v = try finish!()
        values = v
        finish = nil
        return v
    }
}

/// Bytes held and moved by a backend (debug counters; tests assert on `uploads`/`downloads`).
public struct MemoryStats: Sendable, Equatable {
    public var bytesInUse = 0
    public var peakBytes = 0
    public var uploads = 0
    public var downloads = 0
    public init() {}
}

/// A tensor viewed as (outer, mid, inner) for reductions, broadcasts and normalisation.
public struct Dims3: Sendable, Equatable {
    public var outer: Int, mid: Int, inner: Int
    public init(_ outer: Int, _ mid: Int, _ inner: Int) { (self.outer, self.mid, self.inner) = (outer, mid, inner) }
    public var count: Int { outer * mid * inner }
    /// Which part a reduction keeps (or a broadcast source spans).
    public enum Keep: Int32, Sendable { case middle = 0, outer = 1 }
}

/// An activation fused into the op before it (MONAI's blocks: InstanceNorm → LeakyReLU(0.01), and the residual sum →
/// LeakyReLU).
public enum FusedActivation: Sendable, Equatable {
    case none
    case leakyRelu(slope: Float)

    var code: Int32 { if case .none = self { 0 } else { 1 } }
    var slope: Float { if case let .leakyRelu(s) = self { s } else { 1 } }

    /// y = act(v): LeakyReLU as `UnaryOp.leakyRelu` computes it.
    @inline(__always) func apply(_ v: Float) -> Float { if case let .leakyRelu(s) = self, !(v > 0) { v * s } else { v } }
    /// act'(v), as `UnaryOp.leakyRelu`'s backward takes it (the slope at 0).
    @inline(__always) func derivative(_ v: Float) -> Float { if case let .leakyRelu(s) = self, !(v > 0) { s } else { 1 } }
}

/// Where a normalisation's gamma/beta index comes from.
public enum NormAffine: Sendable, Equatable {
    case none
    /// gamma[b % groups] (InstanceNorm over (1, N·C, S), BatchNorm over (N, C, S)).
    case perRow(groups: Int)
    /// gamma[c] (LayerNorm over (1, rows, features)).
    case perColumn

    var code: Int32 { switch self { case .none: 0; case .perRow: 1; case .perColumn: 2 } }
    var groups: Int { if case let .perRow(g) = self { g } else { 1 } }
}

public enum UnaryOp: Sendable, Equatable {
    case relu, leakyRelu(slope: Float), gelu, sigmoid, scale(Float)
    /// 1/sqrt(x + epsilon) (BatchNorm's inverse standard deviation from running variance).
    case rsqrt(epsilon: Float)
    /// |x|; its derivative is torch.sign (0 at 0).
    case abs

    /// Codes shared with kernels/elementwise.cl.
    var code: Int32 {
        switch self {
        case .relu: 0; case .leakyRelu: 1; case .gelu: 2; case .sigmoid: 3; case .scale: 4; case .rsqrt: 5; case .abs: 6
        }
    }
    var parameter: Float {
        switch self { case let .leakyRelu(s): s; case let .scale(a): a; case let .rsqrt(e): e; default: 0 }
    }
}

public enum BinaryOp: Int32, Sendable { case add = 0, sub = 1, mul = 2, div = 3 }

/// Row-major GEMM arguments: C[m×n] = alpha·op(A)[m×k]·op(B)[k×n] + beta·C, `batch` times with strides.
public struct GemmArgs: Sendable, Equatable {
    public var transA = false, transB = false
    public var m: Int, n: Int, k: Int
    public var alpha: Float = 1, beta: Float = 0
    public var lda: Int, ldb: Int, ldc: Int
    public var aOffset = 0, bOffset = 0, cOffset = 0
    public var batch = 1, strideA = 0, strideB = 0, strideC = 0

    /// Dense operands: lda/ldb/ldc follow from the transposes.
    public init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, alpha: Float = 1, beta: Float = 0) {
        self.m = m; self.n = n; self.k = k
        self.transA = transA; self.transB = transB
        self.alpha = alpha; self.beta = beta
        lda = transA ? m : k
        ldb = transB ? k : n
        ldc = n
    }

    /// Highest element index + 1 that each operand touches (for bounds checks).
    var extents: (a: Int, b: Int, c: Int) {
        let rowsA = transA ? k : m, rowsB = transB ? n : k
        let colsA = transA ? m : k, colsB = transB ? k : n
        func ext(_ off: Int, _ rows: Int, _ cols: Int, _ ld: Int, _ stride: Int) -> Int {
            rows == 0 || cols == 0 ? 0 : off + (batch - 1) * stride + (rows - 1) * ld + cols
        }
        return (ext(aOffset, rowsA, colsA, lda, strideA), ext(bOffset, rowsB, colsB, ldb, strideB),
                ext(cOffset, m, n, ldc, strideC))
    }
}

/// One sample's convolution geometry: input (C, D, H, W), kernel, stride, padding; output derived.
/// Conv2d is the case D = 1, kernel/stride 1 and padding 0 along depth.
public struct ConvGeometry: Sendable, Equatable {
    public var channels: Int
    public var input: (d: Int, h: Int, w: Int)
    public var kernel: (d: Int, h: Int, w: Int)
    public var stride: (d: Int, h: Int, w: Int)
    public var padding: (d: Int, h: Int, w: Int)

    public init(channels: Int, input: (Int, Int, Int), kernel: (Int, Int, Int), stride: (Int, Int, Int),
                padding: (Int, Int, Int)) {
        self.channels = channels
        self.input = input; self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public var output: (d: Int, h: Int, w: Int) {
        func o(_ i: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (i + 2 * p - k) / s + 1 }
        return (o(input.d, kernel.d, stride.d, padding.d), o(input.h, kernel.h, stride.h, padding.h),
                o(input.w, kernel.w, stride.w, padding.w))
    }
    public var kernelVolume: Int { kernel.d * kernel.h * kernel.w }
    public var inputVolume: Int { input.d * input.h * input.w }
    public var outputVolume: Int { let o = output; return o.d * o.h * o.w }

    public static func == (l: ConvGeometry, r: ConvGeometry) -> Bool {
        l.channels == r.channels && l.input == r.input && l.kernel == r.kernel && l.stride == r.stride
            && l.padding == r.padding
    }
}

/// 2D pooling over `planes` = N·C planes of (H, W); output (Ho, Wo) given explicitly.
public struct PoolGeometry: Sendable, Equatable {
    public var planes: Int
    public var input: (h: Int, w: Int)
    public var output: (h: Int, w: Int)
    public var kernel: (h: Int, w: Int) = (1, 1)
    public var stride: (h: Int, w: Int) = (1, 1)
    public var padding: (h: Int, w: Int) = (0, 0)

    public init(planes: Int, input: (Int, Int), output: (Int, Int), kernel: (Int, Int) = (1, 1),
                stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) {
        self.planes = planes; self.input = input; self.output = output
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public static func == (l: PoolGeometry, r: PoolGeometry) -> Bool {
        l.planes == r.planes && l.input == r.input && l.output == r.output && l.kernel == r.kernel
            && l.stride == r.stride && l.padding == r.padding
    }
}

/// AdamW hyper-parameters (PyTorch defaults except the weight decay, which MONAI's recipes set).
public struct AdamWHyper: Sendable, Equatable, Codable {
    public var lr: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 1e-5

    public init(lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 1e-5) {
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }

    /// Bias corrections for step t (1-based), computed in Double as PyTorch does on the host.
    func corrections(step: Int) -> (bc1: Float, bc2Sqrt: Float) {
        (Float(1 - pow(Double(beta1), Double(step))), Float((1 - pow(Double(beta2), Double(step))).squareRoot()))
    }
}

/// A Swin stage's window layout for channels-last x (batch, d, h, w, channels).
public struct WindowGeometry: Sendable, Hashable {
    public var batch: Int, channels: Int
    public var size: [Int]     // (D, H, W)
    public var window: [Int]   // clipped per axis to the size (MONAI get_window_size)
    public var shift: [Int]    // 0 on axes where size <= window

    /// MONAI's get_window_size: an axis no larger than the window uses its size and no shift.
    public init(batch: Int, size: [Int], channels: Int, window: [Int], shift: [Int]) {
        self.batch = batch
        self.channels = channels
        self.size = size
        self.window = zip(size, window).map { $0 <= $1 ? $0 : $1 }
        self.shift = (0..<3).map { size[$0] <= window[$0] ? 0 : shift[$0] }
    }

    /// Sizes padded up to a multiple of the window.
    public var padded: [Int] { (0..<3).map { (size[$0] + window[$0] - 1) / window[$0] * window[$0] } }
    public var windowsPerSample: Int { (0..<3).reduce(1) { $0 * padded[$1] / window[$1] } }
    public var tokens: Int { window.reduce(1, *) }
    public var isShifted: Bool { shift.contains { $0 > 0 } }

    /// The window slots that read the padding, as bw·N + n (bw = window over the batch, n = token of the window),
    /// in order: kernels/window_attention.cl's `slot_source` < 0. Empty when every size is a multiple of its window.
    public var paddedSlots: [Int] {
        guard padded != size else { return [] }
        let grid = (0..<3).map { padded[$0] / window[$0] }
        var slots: [Int] = []
        for bw in 0..<(batch * windowsPerSample) {
            let w = bw % windowsPerSample
            let wd = w / (grid[1] * grid[2]), wh = (w / grid[2]) % grid[1], ww = w % grid[2]
            for n in 0..<tokens {
                let id = n / (window[1] * window[2]), ih = (n / window[2]) % window[1], iw = n % window[2]
                let d = (wd * window[0] + id + shift[0]) % padded[0], h = (wh * window[1] + ih + shift[1]) % padded[1]
                let x = (ww * window[2] + iw + shift[2]) % padded[2]
                if d >= size[0] || h >= size[1] || x >= size[2] { slots.append(bw * tokens + n) }
            }
        }
        return slots
    }
}

/// DiceCELoss settings (MONAI defaults).
public struct DiceCEOptions: Sendable, Equatable, Codable {
    public var smoothNr: Float = 1e-5
    public var smoothDr: Float = 1e-5
    public var lambdaDice: Float = 1
    public var lambdaCE: Float = 1
    /// MONAI `DiceLoss(batch=True)` (nnU-Net's batch Dice): each class's intersection and sums are taken over
    /// the whole batch before the ratio, so a sub-volume without tumour does not add a Dice term of its own.
    public var batch = false
    public init() {}
}
