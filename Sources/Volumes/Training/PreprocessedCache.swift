import Foundation

/// Preprocessed (image, label) pairs on disk, so epochs after the first skip the resampling. The key
/// hashes both files' bytes and the preprocessing parameters; entries are NIfTI files written atomically.
public struct PreprocessedCache: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// FNV-1a 64 of the inputs' bytes and the parameters.
    public static func key(image: URL, label: URL?, preprocessing p: Preprocessing) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ d: Data) { for b in d { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 } }
        mix(try Data(contentsOf: image))
        if let label { mix(try Data(contentsOf: label)) }
        mix(Data("\(p.spacing) \(p.window.low) \(p.window.high) \(p.cropForeground) v1".utf8))
        return String(h, radix: 16)
    }

    /// The cached pair (an unlabeled image caches an all-zero label), or `make()`'s result after storing it.
    public func get(image: URL, label: URL?, preprocessing: Preprocessing, make: () throws -> (Volume, Volume)) throws -> (Volume, Volume) {
        let key = try Self.key(image: image, label: label, preprocessing: preprocessing)
        let img = directory.appendingPathComponent("\(key)-image.nii"), lab = directory.appendingPathComponent("\(key)-label.nii")
        if let a = try? NIfTI.read(img).volume, let b = try? NIfTI.read(lab).volume, a.shape == b.shape { return (a, b) }
        let (a, b) = try make()
        try NIfTI.write(a, to: img, as: .float32)
        try NIfTI.write(b, to: lab, as: .uint8)
        return (a, b)
    }
}
