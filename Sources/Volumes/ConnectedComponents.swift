/// Connected components of a binary mask on a 3D grid.
public enum ConnectedComponents {
    /// 26-connected components of `mask` (last axis fastest), numbered 1... in the raster order of
    /// their first voxel (scipy.ndimage.label with a 3×3×3 structure). Returns ids per voxel and sizes.
    public static func label(_ mask: [Bool], shape s: [Int]) -> (ids: [Int32], sizes: [Int]) {
        var parent = [Int32](repeating: -1, count: mask.count)
        func find(_ i: Int) -> Int {
            var r = i
            while parent[r] != Int32(r) { r = Int(parent[r]) }
            var j = i
            while parent[j] != Int32(r) { let n = Int(parent[j]); parent[j] = Int32(r); j = n }
            return r
        }
        for x in 0..<s[0] { for y in 0..<s[1] { for z in 0..<s[2] {
            let i = (x * s[1] + y) * s[2] + z
            guard mask[i] else { continue }
            parent[i] = Int32(i)
            // neighbours earlier in raster order
            for dx in -1...0 { for dy in -1...1 { for dz in -1...1 {
                if dx == 0 && (dy > 0 || (dy == 0 && dz >= 0)) { continue }
                let (a, b, c) = (x + dx, y + dy, z + dz)
                guard a >= 0, b >= 0, c >= 0, b < s[1], c < s[2] else { continue }
                let j = (a * s[1] + b) * s[2] + c
                guard mask[j] else { continue }
                let (ri, rj) = (find(i), find(j))
                if ri != rj { parent[max(ri, rj)] = Int32(min(ri, rj)) }   // the root is the earliest voxel
            } } }
        } } }
        var ids = [Int32](repeating: 0, count: mask.count)
        var number: [Int: Int32] = [:]
        var sizes: [Int] = []
        for i in 0..<mask.count where mask[i] {
            let r = find(i)
            if number[r] == nil { sizes.append(0); number[r] = Int32(sizes.count) }
            let k = number[r]!
            ids[i] = k
            sizes[Int(k) - 1] += 1
        }
        return (ids, sizes)
    }
}
