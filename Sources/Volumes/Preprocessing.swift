import Foundation

/// The paper's MONAI chain, step by step (MONAI 1.6 semantics; ../shared/reference/preprocessing is the spec):
/// Orientationd('RAS') → Spacingd(pixdim, bilinear / nearest, border) → ScaleIntensityRanged(a_min, a_max → 0…1,
/// clip) → CropForegroundd(image > 0). Each step returns new volumes with MONAI's affine after that step.
public struct Preprocessing: Sendable, Equatable {
    public var spacing: [Double] = [1.5, 1.5, 2.0]
    public var window: (low: Float, high: Float) = (-175, 250)
    public var cropForeground = true

    public init(spacing: [Double] = [1.5, 1.5, 2.0], window: (low: Float, high: Float) = (-175, 250), cropForeground: Bool = true) {
        self.spacing = spacing; self.window = window; self.cropForeground = cropForeground
    }

    public static func == (a: Preprocessing, b: Preprocessing) -> Bool {
        a.spacing == b.spacing && a.window == b.window && a.cropForeground == b.cropForeground
    }

    /// Where each output voxel came from, so predictions can be mapped back to the input grid.
    public struct Trace: Sendable {
        public var inputShape: [Int], inputAffine: Affine
        public var orientedAffine: Affine, orientedShape: [Int]
        public var resampledShape: [Int]
        public var cropStart: [Int], cropShape: [Int]
    }

    /// Runs the whole chain on an image and (optionally) its label; `steps` receives each intermediate.
    public func callAsFunction(image: Volume, label: Volume? = nil,
                               steps: ((String, Volume, Volume?) -> Void)? = nil) throws -> (image: Volume, label: Volume?, trace: Trace) {
        var img = try Self.orient(image), lab = try label.map { try Self.orient($0) }
        steps?("2_Orientationd", img, lab)
        let orientedAffine = img.affine, orientedShape = img.shape
        img = try Self.resample(img, spacing: spacing, nearest: false)
        lab = try lab.map { try Self.resample($0, spacing: spacing, nearest: true) }
        steps?("3_Spacingd", img, lab)
        let resampledShape = img.shape
        img.values = img.values.map { Self.scale($0, window) }
        steps?("4_ScaleIntensityRanged", img, lab)
        var start = [0, 0, 0], size = img.shape
        if cropForeground {
            (start, size) = try Self.foregroundBox(img)
            img = Self.crop(img, start: start, size: size)
            lab = lab.map { Self.crop($0, start: start, size: size) }
            steps?("5_CropForegroundd", img, lab)
        }
        return (img, lab, Trace(inputShape: image.shape, inputAffine: image.affine, orientedAffine: orientedAffine,
                                orientedShape: orientedShape, resampledShape: resampledShape, cropStart: start, cropShape: size))
    }

    // MARK: steps

    /// For each array axis: the world axis (0 = R, 1 = A, 2 = S) it runs along and its sign.
    static func orientation(_ a: Affine) throws -> [(axis: Int, sign: Double)] {
        let codes = a.axisCodes
        let map: [String: (Int, Double)] = ["R": (0, 1), "L": (0, -1), "A": (1, 1), "P": (1, -1), "S": (2, 1), "I": (2, -1)]
        let o = codes.map { map[$0]! }
        guard Set(o.map(\.0)).count == 3 else { throw NIfTIError(file: "affine", problem: "degenerate orientation \(codes)") }
        return o
    }

    /// Orientationd(axcodes='RAS'): permutes and flips array axes so axis i runs along +world axis i.
    public static func orient(_ v: Volume) throws -> Volume {
        let o = try orientation(v.affine)
        // new axis j reads old axis src[j], flipped when that axis points the negative way.
        let src = (0..<3).map { j in o.firstIndex { $0.axis == j }! }
        let flip = src.map { o[$0].sign < 0 }
        let shape = src.map { v.shape[$0] }
        var rows = v.affine.rows
        for j in 0..<3 {
            let i = src[j]
            for r in 0..<3 {
                let col = v.affine.rows[r][i]
                rows[r][j] = flip[j] ? -col : col
                if flip[j] { rows[r][3] += col * Double(v.shape[i] - 1) }
            }
        }
        var out = [Float](repeating: 0, count: v.count)
        let (n0, n1, n2) = (shape[0], shape[1], shape[2])
        var idx = [0, 0, 0]
        for a in 0..<n0 { for b in 0..<n1 { for c in 0..<n2 {
            let new = [a, b, c]
            for j in 0..<3 { idx[src[j]] = flip[j] ? shape[j] - 1 - new[j] : new[j] }
            out[(a * n1 + b) * n2 + c] = v.values[(idx[0] * v.shape[1] + idx[1]) * v.shape[2] + idx[2]]
        } } }
        return Volume(shape: shape, values: out, affine: Affine(rows))
    }

    /// Spacingd: output shape round_half_even((n − 1)·old/new + 1), first voxel centre kept, values by
    /// trilinear interpolation (border clamp) or nearest (round half to even) at inv(A_in)·A_out·p, in Double.
    /// An output grid over `NIfTI.maxVoxels` (a tiny target spacing) is refused before it is allocated.
    public static func resample(_ v: Volume, spacing new: [Double], nearest: Bool) throws -> Volume {
        let old = v.spacing
        guard new.count == 3, new.allSatisfy({ $0.isFinite && $0 > 0 }), old.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw NIfTIError(file: "resampling", problem: "invalid spacing \(new) (from \(old)): each must be finite and positive")
        }
        let sizes = (0..<3).map { i in (Double(v.shape[i] - 1) * old[i] / new[i] + 1).rounded(.toNearestOrEven) }
        guard sizes.reduce(1, *) <= Double(NIfTI.maxVoxels) else {
            throw NIfTIError(file: "resampling", problem: "spacing \(new) mm would make a grid of \(sizes.map { Int($0) }) voxels from \(v.shape) at \(old) mm: more than \(NIfTI.maxVoxels) voxels")
        }
        let shape = sizes.map { max(1, Int($0)) }
        var rows = v.affine.rows
        for c in 0..<3 { for r in 0..<3 { rows[r][c] = v.affine.rows[r][c] / old[c] * new[c] } }
        return try resampleOnto(v, shape: shape, affine: Affine(rows), nearest: nearest)
    }

    /// ScaleIntensityRanged(a_min, a_max, 0, 1, clip=True), in Float as MONAI.
    @inline(__always)
    static func scale(_ x: Float, _ w: (low: Float, high: Float)) -> Float {
        min(max((x - w.low) / (w.high - w.low), 0), 1)
    }

    /// CropForegroundd(select_fn = image > 0, margin 0): the bounding box of the foreground.
    static func foregroundBox(_ v: Volume) throws -> (start: [Int], size: [Int]) {
        var lo = v.shape, hi = [-1, -1, -1]
        let (n1, n2) = (v.shape[1], v.shape[2])
        for (i, x) in v.values.enumerated() where x > 0 {
            let p = [i / (n1 * n2), (i / n2) % n1, i % n2]
            for a in 0..<3 { lo[a] = min(lo[a], p[a]); hi[a] = max(hi[a], p[a]) }
        }
        guard hi[0] >= 0 else { throw NIfTIError(file: "image", problem: "no foreground after the intensity window: nothing to crop to") }
        return (lo, (0..<3).map { hi[$0] - lo[$0] + 1 })
    }

    /// The box [start, start + size) of v; the affine's origin moves to the box's first voxel.
    public static func crop(_ v: Volume, start: [Int], size: [Int]) -> Volume {
        var out = [Float](repeating: 0, count: size.reduce(1, *))
        var k = 0
        for a in 0..<size[0] { for b in 0..<size[1] {
            let base = ((a + start[0]) * v.shape[1] + b + start[1]) * v.shape[2] + start[2]
            for c in 0..<size[2] { out[k] = v.values[base + c]; k += 1 }
        } }
        var rows = v.affine.rows
        for r in 0..<3 { rows[r][3] += (0..<3).reduce(0.0) { $0 + v.affine.rows[r][$1] * Double(start[$1]) } }
        return Volume(shape: size, values: out, affine: Affine(rows))
    }
}

func matmul(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    (0..<4).map { r in (0..<4).map { c in (0..<4).reduce(0.0) { $0 + a[r][$1] * b[$1][c] } } }
}

/// Inverse of a 4×4 affine (Gauss–Jordan with partial pivoting).
func inverse(_ m: [[Double]]) -> [[Double]] {
    var a = m, inv = (0..<4).map { r in (0..<4).map { c in r == c ? 1.0 : 0.0 } }
    for col in 0..<4 {
        let p = (col..<4).max { abs(a[$0][col]) < abs(a[$1][col]) }!
        a.swapAt(col, p); inv.swapAt(col, p)
        let d = a[col][col]
        for c in 0..<4 { a[col][c] /= d; inv[col][c] /= d }
        for r in 0..<4 where r != col {
            let f = a[r][col]
            if f != 0 { for c in 0..<4 { a[r][c] -= f * a[col][c]; inv[r][c] -= f * inv[col][c] } }
        }
    }
    return inv
}

extension Preprocessing {
    /// Maps a volume on the preprocessed grid (a label map, or one probability channel) back onto the input
    /// CT's grid: undo the crop (filling with `outside`), the resampling (nearest for labels, trilinear
    /// otherwise) and the orientation. The result carries the input's affine, voxel for voxel.
    public static func restore(_ v: Volume, trace t: Trace, nearest: Bool, outside: Float = 0) throws -> Volume {
        guard v.shape == t.cropShape else {
            throw NIfTIError(file: "prediction", problem: "shape \(v.shape) is not the preprocessed shape \(t.cropShape)")
        }
        // 1. uncrop into the resampled grid
        var full = [Float](repeating: outside, count: t.resampledShape.reduce(1, *))
        let r = t.resampledShape
        for a in 0..<v.shape[0] { for b in 0..<v.shape[1] {
            let src = (a * v.shape[1] + b) * v.shape[2]
            let dst = ((a + t.cropStart[0]) * r[1] + b + t.cropStart[1]) * r[2] + t.cropStart[2]
            for c in 0..<v.shape[2] { full[dst + c] = v.values[src + c] }
        } }
        var rows = v.affine.rows
        for i in 0..<3 { rows[i][3] -= (0..<3).reduce(0.0) { $0 + v.affine.rows[i][$1] * Double(t.cropStart[$1]) } }
        let resampled = Volume(shape: r, values: full, affine: Affine(rows))
        // 2. resample onto the oriented input grid
        let oriented = try resampleOnto(resampled, shape: t.orientedShape, affine: t.orientedAffine, nearest: nearest)
        // 3. undo the orientation
        let o = try orientation(t.inputAffine)
        let src = (0..<3).map { j in o.firstIndex { $0.axis == j }! }
        let flip = src.map { o[$0].sign < 0 }
        let s = t.inputShape, os = t.orientedShape
        var out = [Float](repeating: 0, count: s.reduce(1, *))
        var k = 0
        for a in 0..<s[0] { for b in 0..<s[1] { for c in 0..<s[2] {
            let idx = [a, b, c]
            let n = (0..<3).map { j in flip[j] ? os[j] - 1 - idx[src[j]] : idx[src[j]] }
            out[k] = oriented.values[(n[0] * os[1] + n[1]) * os[2] + n[2]]
            k += 1
        } } }
        return Volume(shape: s, values: out, affine: t.inputAffine)
    }

    /// Values of `v` at the voxel centres of another grid (shape, affine): trilinear or nearest (round half to
    /// even) at the continuous index inv(A_v)·A·p, clamped to the volume ('border'), computed in Double.
    static func resampleOnto(_ v: Volume, shape: [Int], affine: Affine, nearest: Bool) throws -> Volume {
        let m = matmul(inverse(v.affine.rows), affine.rows)
        guard m.joined().allSatisfy(\.isFinite) else {
            throw NIfTIError(file: "resampling", problem: "singular or non-finite affine [\(v.affine)]: no voxel-to-world mapping")
        }
        let (n1, n2) = (v.shape[1], v.shape[2])
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        var k = 0
        for a in 0..<shape[0] { for b in 0..<shape[1] { for c in 0..<shape[2] {
            let p = [Double(a), Double(b), Double(c)]
            let q = (0..<3).map { r in min(max(m[r][0] * p[0] + m[r][1] * p[1] + m[r][2] * p[2] + m[r][3], 0), Double(v.shape[r] - 1)) }
            if nearest {
                let i = q.map { Int($0.rounded(.toNearestOrEven)) }
                out[k] = v.values[(i[0] * n1 + i[1]) * n2 + i[2]]
            } else {
                out[k] = trilinear(v, q)
            }
            k += 1
        } } }
        return Volume(shape: shape, values: out, affine: affine)
    }

    static func trilinear(_ v: Volume, _ q: [Double]) -> Float {
        let (n1, n2) = (v.shape[1], v.shape[2])
        let i0 = q.map { Int($0.rounded(.down)) }
        let i1 = (0..<3).map { min(i0[$0] + 1, v.shape[$0] - 1) }
        let t = (0..<3).map { q[$0] - Double(i0[$0]) }
        var s = 0.0
        for corner in 0..<8 {
            let ia = corner & 4 != 0 ? i1[0] : i0[0], ib = corner & 2 != 0 ? i1[1] : i0[1], ic = corner & 1 != 0 ? i1[2] : i0[2]
            let w = (corner & 4 != 0 ? t[0] : 1 - t[0]) * (corner & 2 != 0 ? t[1] : 1 - t[1]) * (corner & 1 != 0 ? t[2] : 1 - t[2])
            if w != 0 { s += w * Double(v.values[(ia * n1 + ib) * n2 + ic]) }
        }
        return Float(s)
    }
}
