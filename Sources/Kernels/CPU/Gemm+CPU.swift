import CBLAS
import Foundation

/// Products at least this large (m·n·k) are split into blocks across the cores.
private let splitThreshold = 1 << 20

extension CPUBackend {
    /// OpenBLAS `cblas_sgemm`, once per batch entry. OpenBLAS itself runs single-threaded (see
    /// `CPUBackend.init`): a large product is split into row blocks of C (or column blocks, when C is
    /// wider than tall), one OpenBLAS call per core. Each block sums over k in the same order whatever
    /// core runs it, so results do not depend on scheduling.
    public func beginGemmSum(into c: Tensor, m: Int, n: Int, ldc: Int, cOffset: Int, totalK: Int) throws -> GemmSum {
        PackedGemmSum(backend: self, c: c)
    }

    public func gemm(_ g: GemmArgs, a: Tensor, b: Tensor, c: Tensor) throws {
        let ap = try ptr(a, "gemm"), bp = try ptr(b, "gemm"), cp = try ptr(c, "gemm")
        guard g.m > 0, g.n > 0 else { return }
        if let packed = PackedColumns(g) {
            // A convolution over a batch of small images: one product with the samples side by side, not one per sample
            // (each of which would read the whole weight matrix for a few columns).
            let bs = packed.pack(bp + g.bOffset, rows: g.k, stride: g.strideB)
            let cs = g.beta == 0 ? [Float](repeating: 0, count: g.m * packed.width)
                                 : packed.pack(cp + g.cOffset, rows: g.m, stride: g.strideC)
            var one = g
            (one.n, one.batch, one.ldb, one.ldc, one.bOffset, one.cOffset) = (packed.width, 1, packed.width, packed.width, 0, 0)
            try bs.withUnsafeBufferPointer { b in
                var c = cs
                try c.withUnsafeMutableBufferPointer { c in
                    try gemmRows(one, ap + g.aOffset, UnsafeMutablePointer(mutating: b.baseAddress!), c.baseAddress!)
                    packed.unpack(c.baseAddress!, rows: g.m, into: cp + g.cOffset, stride: g.strideC)
                }
            }
            return
        }
        for i in 0..<g.batch {
            try gemmRows(g, ap + g.aOffset + i * g.strideA, bp + g.bOffset + i * g.strideB, cp + g.cOffset + i * g.strideC)
        }
    }

    /// One product C = alpha·op(A)·op(B) + beta·C at these addresses, split across the cores when large.
    func gemmRows(_ g: GemmArgs, _ A: UnsafeMutablePointer<Float>, _ B: UnsafeMutablePointer<Float>, _ C: UnsafeMutablePointer<Float>) throws {
        if g.k == 0 {
            // BLAS leaves C untouched for k = 0 only when beta = 1; make it explicit.
            for r in 0..<g.m { for j in 0..<g.n { C[r * g.ldc + j] *= g.beta } }
            return
        }
        let parts = g.m * g.n * g.k >= splitThreshold ? min(cores, max(g.m, g.n)) : 1
        let rows = g.m >= g.n
        parallelFor(parts) { p in
            let (lo, hi) = rows ? (p * g.m / parts, (p + 1) * g.m / parts) : (p * g.n / parts, (p + 1) * g.n / parts)
            guard hi > lo else { return }
            // Row block: A's rows lo..<hi (columns when A is transposed); column block: B's columns.
            let a = rows ? A + (g.transA ? lo : lo * g.lda) : A
            let b = rows ? B : B + (g.transB ? lo * g.ldb : lo)
            let c = C + (rows ? lo * g.ldc : lo)
            cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
                        Int32(rows ? hi - lo : g.m), Int32(rows ? g.n : hi - lo), Int32(g.k), g.alpha,
                        a, Int32(g.lda), b, Int32(g.ldb), g.beta, c, Int32(g.ldc))
        }
    }
}

/// A batch of products sharing A (stride 0) whose B and C are small row-major blocks (n columns each, rows packed):
/// laid side by side they make one product of width batch·n. Used where n is small enough for the per-sample products
/// to be dominated by reading A.
struct PackedColumns {
    let n: Int, batch: Int
    var width: Int { n * batch }
    /// Below this width a product per sample is worth packing.
    static let narrow = 512

    init?(_ g: GemmArgs) {
        guard g.batch > 1, g.strideA == 0, !g.transB, g.n < Self.narrow, g.ldb == g.n, g.ldc == g.n,
              g.strideB >= g.k * g.n, g.strideC >= g.m * g.n, g.k > 0 else { return nil }
        (n, batch) = (g.n, g.batch)
    }

    /// rows × n blocks `stride` apart → one rows × (batch·n) matrix.
    func pack(_ p: UnsafeMutablePointer<Float>, rows: Int, stride: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * width)
        out.withUnsafeMutableBufferPointer { o in
            for b in 0..<batch { for r in 0..<rows {
                (o.baseAddress! + r * width + b * n).update(from: p + b * stride + r * n, count: n)
            } }
        }
        return out
    }

    func unpack(_ p: UnsafeMutablePointer<Float>, rows: Int, into dst: UnsafeMutablePointer<Float>, stride: Int) {
        for b in 0..<batch { for r in 0..<rows { (dst + b * stride + r * n).update(from: p + r * width + b * n, count: n) } }
    }
}

/// The CPU backend's weight-gradient sum: products added into C at once; the per-sample products of a batch of small
/// images are packed into one (`addSamples`).
final class PackedGemmSum: GemmSum {
    private let backend: CPUBackend
    private let c: Tensor
    private let immediate: ImmediateGemmSum

    init(backend: CPUBackend, c: Tensor) { self.backend = backend; self.c = c; immediate = ImmediateGemmSum(backend: backend, c: c) }

    func add(_ g: GemmArgs, a: Tensor, b: Tensor) throws { try immediate.add(g, a: a, b: b) }

    /// C += Σ over `count` samples of op(A_s)·B_sᵀ, A_s = a at aOffset + s·strideA (m × k, lda), B_s = b at
    /// bOffset + s·strideB (n × k rows of k): with small k the samples are packed side by side into one product of depth
    /// count·k.
    func addSamples(_ g: GemmArgs, count: Int, strideA: Int, strideB: Int, a: Tensor, b: Tensor) throws {
        guard count > 1, g.transB, !g.transA, g.k < PackedColumns.narrow, g.ldb == g.k else {
            return try addEachSample(g, count: count, strideA: strideA, strideB: strideB, a: a, b: b)
        }
        let ap = try backend.ptr(a, "gemm"), bp = try backend.ptr(b, "gemm"), cp = try backend.ptr(c, "gemm")
        let depth = count * g.k
        var pa = [Float](repeating: 0, count: g.m * depth), pb = [Float](repeating: 0, count: g.n * depth)
        pa.withUnsafeMutableBufferPointer { o in
            for s in 0..<count { for r in 0..<g.m { (o.baseAddress! + r * depth + s * g.k).update(from: ap + g.aOffset + s * strideA + r * g.lda, count: g.k) } }
        }
        pb.withUnsafeMutableBufferPointer { o in
            for s in 0..<count { for r in 0..<g.n { (o.baseAddress! + r * depth + s * g.k).update(from: bp + g.bOffset + s * strideB + r * g.ldb, count: g.k) } }
        }
        var one = g
        (one.k, one.lda, one.ldb, one.beta) = (depth, depth, depth, 1)
        try pa.withUnsafeMutableBufferPointer { a in
            try pb.withUnsafeMutableBufferPointer { b in
                try backend.gemmRows(one, a.baseAddress!, b.baseAddress!, cp + g.cOffset)
            }
        }
    }

    func finish() throws {}
}
