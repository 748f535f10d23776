import Foundation
import Volumes

/// A CT segmented on its own grid: the label mask (0 background, 1 liver, 2 tumour) and each class's
/// probability, with the input's affine.
public struct ScanSegmentation {
    public var mask: Volume
    public let probabilities: [Volume]
    public let header: NIfTIHeader

    /// Millilitres of label `k` (voxel count × voxel volume).
    public func volumeML(_ k: Int) -> Double {
        let voxel = mask.spacing.reduce(1, *) / 1000
        return Double(mask.values.reduce(0) { $0 + (Int($1) == k ? 1 : 0) }) * voxel
    }

    /// MONAI's `KeepLargestConnectedComponent` on the foreground (liver ∪ tumour, 26-connected): voxels of every
    /// other component become background. A liver is one organ, so liver or tumour voxels apart from it are false
    /// positives (they also decide which tumour is "the largest" for the classifier).
    public static func keepLargestForeground(_ mask: Volume) -> Volume {
        let (ids, sizes) = ConnectedComponents.label(mask.values.map { $0 >= 0.5 }, shape: mask.shape)
        guard sizes.count > 1, let largest = sizes.indices.max(by: { sizes[$0] < sizes[$1] }) else { return mask }
        var out = mask
        for i in out.values.indices where ids[i] != 0 && ids[i] != Int32(largest + 1) { out.values[i] = 0 }
        return out
    }

    /// Reads the CT, runs the preprocessing chain, sliding-window inference on the preprocessed grid,
    /// maps each class probability back onto the input grid (trilinear; outside the foreground crop:
    /// background) and takes the argmax there; with `largestComponent`, keeps only the largest foreground component.
    public static func run(_ url: URL, segmenter: VolumeSegmenter, preprocessing: Preprocessing, largestComponent: Bool = true) throws
        -> ScanSegmentation
    {
        let (image, header) = try NIfTI.read(url)
        let p = try preprocessing(image: image)
        let probs = try segmenter.probabilities(p.image)
        let c = segmenter.model.config.outChannels, s = p.image.values.count
        let restored = try (0..<c).map { k in
            try Preprocessing.restore(Volume(shape: p.image.shape, values: Array(probs[k * s..<(k + 1) * s]), affine: p.image.affine),
                                      trace: p.trace, nearest: false, outside: k == 0 ? 1 : 0)
        }
        let n = image.values.count
        var stacked = [Float](repeating: 0, count: c * n)
        for k in 0..<c { stacked.replaceSubrange(k * n..<(k + 1) * n, with: restored[k].values) }
        var mask = Volume(shape: image.shape, values: VolumeSegmenter.argmax(stacked, channels: c), affine: image.affine)
        if largestComponent { mask = keepLargestForeground(mask) }
        return ScanSegmentation(mask: mask, probabilities: restored, header: header)
    }
}
