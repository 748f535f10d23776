/// A training sample: image channels and label on one (D, H, W) grid, flat C-order.
public struct Patch: Sendable, Equatable {
    public var size: [Int]          // (D, H, W)
    public var image: [Float]       // (C, D, H, W), C = 1 for CT
    public var label: [Float]       // (D, H, W) class ids

    public init(size: [Int], image: [Float], label: [Float]) {
        self.size = size; self.image = image; self.label = label
    }

    var voxels: Int { size.reduce(1, *) }

    /// Gathers every array through `source(index) -> index or nil` (nil → `fill`).
    func remapped(to newSize: [Int], imageFill: Float = 0, _ source: (Int, Int, Int) -> (Int, Int, Int)?) -> Patch {
        let n = newSize.reduce(1, *)
        var img = [Float](repeating: imageFill, count: n), lab = [Float](repeating: 0, count: n)
        var k = 0
        for a in 0..<newSize[0] { for b in 0..<newSize[1] { for c in 0..<newSize[2] {
            if let (x, y, z) = source(a, b, c) {
                let s = (x * size[1] + y) * size[2] + z
                img[k] = image[s]; lab[k] = label[s]
            }
            k += 1
        } } }
        return Patch(size: newSize, image: img, label: lab)
    }
}

/// One seeded generator per worker: every random choice of the pipeline draws from it.
public struct SampleRandom: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    public mutating func chance(_ p: Double) -> Bool { uniform() < p }
}
