import Foundation
import Volumes

/// How the CT is windowed before each slice's min–max rescaling.
public enum SliceWindow: String, CaseIterable, Sendable, Codable {
    /// Per study: HU clipped to the 1st–99th percentile of the voxels labelled liver or tumour (the
    /// paper optimised level and width per study; this rule is our reading of it: the organ's own
    /// intensity range, robust to outliers such as calcifications or contrast in vessels).
    case auto
    /// Raw HU (the definition in `../shared/reference/slices`).
    case none
}

/// The classifier's input for one case (the paper's section 2.3.1): the 15 axial slices through the
/// largest tumour, cropped to its in-plane bounding box (optionally widened by a margin in mm: context around the
/// tumour, which keeps a rim or capsule in view when a predicted mask covers only the lesion's core), resized to
/// 299 × 299, each rescaled to [0, 1].
public struct TumourSlices: Sendable {
    /// Voxels per tumour component (26-connectivity), in scipy.ndimage.label's numbering order.
    public let componentSizes: [Int]
    /// 0-based index into `componentSizes` of the largest (ties: the lowest).
    public let largest: Int
    /// Voxels of the largest component in each axial slice.
    public let areaPerSlice: [Int]
    public let centreSlice: Int
    public let sliceIndices: [Int]
    /// In-plane box [x0, x1) × [y0, y1) of the whole component, widened by the margin (within the image).
    public let box: (x0: Int, x1: Int, y0: Int, y1: Int)
    /// (count, size, size), row = X, column = Y, values in [0, 1].
    public let images: [Float]
    public let size: Int

    public var count: Int { sliceIndices.count }

    /// ct and label on the same (X, Y, Z) grid, RAS (axial slices along the last axis); label 2 = tumour.
    /// `marginMM` widens the box on every side (0: the paper's tight box). Returns nil when the label has no tumour
    /// voxel (the caller reports the case).
    public static func extract(ct: Volume, label: Volume, count: Int = 15, size: Int = 299, window: SliceWindow = .auto,
                               marginMM: Double = 0) throws -> TumourSlices?
    {
        guard ct.shape == label.shape, ct.shape.count == 3 else {
            throw SliceError(problem: "CT \(ct.shape) and label \(label.shape) must be the same 3D grid")
        }
        guard marginMM.isFinite, marginMM >= 0 else { throw SliceError(problem: "margin \(marginMM) mm: must be a finite number ≥ 0") }
        let s = ct.shape
        let (ids, sizes) = ConnectedComponents.label(label.values.map { $0.rounded() == 2 }, shape: s)
        guard !sizes.isEmpty else { return nil }
        let largest = sizes.indices.max { sizes[$0] < sizes[$1] || (sizes[$0] == sizes[$1] && $0 > $1) }!
        var area = [Int](repeating: 0, count: s[2])
        var box = (x0: Int.max, x1: 0, y0: Int.max, y1: 0)
        for x in 0..<s[0] { for y in 0..<s[1] { for z in 0..<s[2] where ids[(x * s[1] + y) * s[2] + z] == Int32(largest + 1) {
            area[z] += 1
            box = (min(box.x0, x), max(box.x1, x + 1), min(box.y0, y), max(box.y1, y + 1))
        } } }
        let spacing = ct.spacing
        let (mx, my) = (Int((marginMM / spacing[0]).rounded()), Int((marginMM / spacing[1]).rounded()))
        box = (max(box.x0 - mx, 0), min(box.x1 + mx, s[0]), max(box.y0 - my, 0), min(box.y1 + my, s[1]))
        let centre = area.indices.max { area[$0] < area[$1] || (area[$0] == area[$1] && $0 > $1) }!
        let half = count / 2
        let first = s[2] >= count ? min(max(centre - half, 0), s[2] - count) : centre - half
        let slices = (0..<count).map { min(max(first + $0, 0), s[2] - 1) }
        var values = ct.values
        if window == .auto {
            let organ = zip(ct.values, label.values).filter { $0.1 >= 0.5 }.map(\.0).sorted()
            if !organ.isEmpty {
                let lo = organ[Int(Double(organ.count - 1) * 0.01)], hi = organ[Int(Double(organ.count - 1) * 0.99)]
                values = values.map { min(max($0, lo), hi) }
            }
        }
        let (h, w) = (box.x1 - box.x0, box.y1 - box.y0)
        var images: [Float] = []
        images.reserveCapacity(count * size * size)
        for z in slices {
            var crop = [Float](repeating: 0, count: h * w)
            for i in 0..<h { for j in 0..<w { crop[i * w + j] = values[((box.x0 + i) * s[1] + box.y0 + j) * s[2] + z] } }
            var r = bilinear(crop, h: h, w: w, size: size)
            let (mn, mx) = (r.min()!, r.max()!)
            // In Double: the span of values near ±Float.greatestFiniteMagnitude overflows a Float.
            r = mx > mn ? r.map { Float((Double($0) - Double(mn)) / (Double(mx) - Double(mn))) } : [Float](repeating: 0, count: r.count)
            images += r
        }
        return TumourSlices(componentSizes: sizes, largest: largest, areaPerSlice: area, centreSlice: centre,
                            sliceIndices: slices, box: box, images: images, size: size)
    }

    /// torch `interpolate(mode="bilinear", align_corners=False, antialias=False)` of an h × w image.
    public static func bilinear(_ x: [Float], h: Int, w: Int, size: Int) -> [Float] {
        func taps(_ n: Int) -> [(Int, Int, Float)] {
            (0..<size).map { d in
                let src = max((Float(d) + 0.5) * Float(n) / Float(size) - 0.5, 0)
                let i0 = min(Int(src), n - 1), i1 = min(i0 + 1, n - 1)
                return (i0, i1, src - Float(i0))
            }
        }
        let rows = taps(h), cols = taps(w)
        var out = [Float](repeating: 0, count: size * size)
        for (r, (a0, a1, wa)) in rows.enumerated() {
            for (c, (b0, b1, wb)) in cols.enumerated() {
                let top = x[a0 * w + b0] * (1 - wb) + x[a0 * w + b1] * wb
                let bottom = x[a1 * w + b0] * (1 - wb) + x[a1 * w + b1] * wb
                out[r * size + c] = top * (1 - wa) + bottom * wa
            }
        }
        return out
    }
}

public struct SliceError: Error, CustomStringConvertible {
    public let problem: String
    public var description: String { "slices: \(problem)" }
}
