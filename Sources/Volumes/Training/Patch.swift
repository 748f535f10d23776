@_exported import SeededRandom

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

/// The generator of the training-data pipeline (augmentation, sampling, shuffles).
public typealias SampleRandom = SplitMix64
