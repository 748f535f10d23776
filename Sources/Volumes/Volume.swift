import Foundation

/// A 4×4 voxel-to-world matrix (RAS+ millimetres, nibabel's `img.affine`), row-major.
public struct Affine: Equatable, Sendable, CustomStringConvertible {
    public var rows: [[Double]]

    public init(_ rows: [[Double]]) {
        precondition(rows.count == 4 && rows.allSatisfy { $0.count == 4 }, "an affine is 4×4")
        self.rows = rows
    }

    public static func diagonal(_ s: [Double]) -> Affine {
        Affine((0..<4).map { r in (0..<4).map { c in r == c ? (r < 3 ? s[r] : 1) : 0 } })
    }

    /// Voxel size along each array axis: the norms of the first three columns.
    public var spacing: [Double] { (0..<3).map { c in (0..<3).reduce(0.0) { $0 + rows[$1][c] * rows[$1][c] }.squareRoot() } }

    /// nibabel's `aff2axcodes` for axis-aligned (or nearly) affines: for each array axis the world axis it
    /// runs along most, as "R"/"L", "A"/"P", "S"/"I".
    public var axisCodes: [String] {
        var used = Set<Int>()
        return (0..<3).map { c in
            let order = (0..<3).sorted { abs(rows[$0][c]) > abs(rows[$1][c]) }
            let w = order.first { !used.contains($0) } ?? order[0]
            used.insert(w)
            let positive = rows[w][c] >= 0
            return [["R", "L"], ["A", "P"], ["S", "I"]][w][positive ? 0 : 1]
        }
    }

    public var description: String { rows.map { $0.map { String(format: "%.6g", $0) }.joined(separator: " ") }.joined(separator: "; ") }
}

/// A 3D scalar volume in nibabel's voxel order: `values[(i·J + j)·K + k]` for shape (I, J, K), so the
/// last axis (k, axial slices after RAS orientation) varies fastest.
public struct Volume: Sendable {
    public var shape: [Int]
    public var values: [Float]
    public var affine: Affine

    public init(shape: [Int], values: [Float], affine: Affine) {
        precondition(shape.count == 3 && values.count == shape.reduce(1, *), "volume shape \(shape) vs \(values.count) values")
        self.shape = shape
        self.values = values
        self.affine = affine
    }

    public var spacing: [Double] { affine.spacing }
    public var count: Int { values.count }

    public subscript(i: Int, j: Int, k: Int) -> Float {
        get { values[(i * shape[1] + j) * shape[2] + k] }
        set { values[(i * shape[1] + j) * shape[2] + k] = newValue }
    }
}
