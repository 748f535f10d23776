/// Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher 2012), separable over the
/// three axes, with anisotropic voxel spacing. O(voxels): HD95 on 512 × 512 × 200 takes seconds.
///
/// `feature[i]` marks the voxels distances are measured to; the result holds, for every voxel, the
/// squared distance in mm² to the nearest feature voxel centre (+∞ when there is none).
public func squaredDistanceTransform(feature: [Bool], shape: [Int], spacing: [Double]) -> [Double] {
    precondition(shape.count == 3 && feature.count == shape.reduce(1, *) && spacing.count == 3)
    var d = feature.map { $0 ? 0.0 : Double.infinity }
    let (n0, n1, n2) = (shape[0], shape[1], shape[2])
    let longest = shape.max() ?? 0
    var f = [Double](repeating: 0, count: longest), out = [Double](repeating: 0, count: longest)
    var v = [Int](repeating: 0, count: longest), z = [Double](repeating: 0, count: longest + 1)
    /// One pass along the axis with `count` samples at `stride`, starting at `base`.
    func pass(_ base: Int, _ stride: Int, _ count: Int, _ step: Double) {
        for q in 0..<count { f[q] = d[base + q * stride] }
        lowerEnvelope(count, step)
        for q in 0..<count { d[base + q * stride] = out[q] }
    }
    /// 1D transform of f[0..<n] with sample spacing `s`: out[p] = min_q f[q] + s²(p − q)².
    func lowerEnvelope(_ n: Int, _ s: Double) {
        var k = -1
        for q in 0..<n where f[q].isFinite {
            let xq = Double(q) * s
            while k >= 0 {
                let xv = Double(v[k]) * s
                let inter = ((f[q] + xq * xq) - (f[v[k]] + xv * xv)) / (2 * (xq - xv))
                if inter <= z[k] { k -= 1 } else { break }
            }
            k += 1
            v[k] = q
            if k == 0 {
                z[0] = -.infinity
            } else {
                let xv = Double(v[k - 1]) * s
                z[k] = ((f[q] + xq * xq) - (f[v[k - 1]] + xv * xv)) / (2 * (xq - xv))
            }
            z[k + 1] = .infinity
        }
        if k < 0 {
            for p in 0..<n { out[p] = .infinity }
            return
        }
        var j = 0
        for p in 0..<n {
            let xp = Double(p) * s
            while z[j + 1] < xp { j += 1 }
            let dx = xp - Double(v[j]) * s
            out[p] = dx * dx + f[v[j]]
        }
    }
    for a in 0..<n0 { for b in 0..<n1 { pass((a * n1 + b) * n2, 1, n2, spacing[2]) } }
    for a in 0..<n0 { for c in 0..<n2 { pass(a * n1 * n2 + c, n2, n1, spacing[1]) } }
    for b in 0..<n1 { for c in 0..<n2 { pass(b * n2 + c, n1 * n2, n0, spacing[0]) } }
    return d
}

/// Surface voxels: the mask minus its erosion by the 6-connected cross, with the outside of the volume
/// counted as background (MONAI / medpy: objects touching the border have border surface voxels).
public func surface(of mask: [Bool], shape: [Int]) -> [Bool] {
    let (n0, n1, n2) = (shape[0], shape[1], shape[2])
    var s = [Bool](repeating: false, count: mask.count)
    for a in 0..<n0 { for b in 0..<n1 { for c in 0..<n2 {
        let i = (a * n1 + b) * n2 + c
        guard mask[i] else { continue }
        let interior = a > 0 && a < n0 - 1 && b > 0 && b < n1 - 1 && c > 0 && c < n2 - 1
            && mask[i - n1 * n2] && mask[i + n1 * n2] && mask[i - n2] && mask[i + n2] && mask[i - 1] && mask[i + 1]
        s[i] = !interior
    } } }
    return s
}
