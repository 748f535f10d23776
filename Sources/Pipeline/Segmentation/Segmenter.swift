import Foundation
import Kernels
import Models
import Train
import Volumes

/// A weights file ready to segment CTs: the model and the settings recorded with it.
public struct Segmenter {
    public let settings: InferenceSettings
    public let volume: VolumeSegmenter
    /// Keep only the largest liver ∪ tumour component (`ScanSegmentation.keepLargestForeground`).
    public var largestComponent = true

    public init(weights: URL, backend: Backend) throws {
        settings = try InferenceSettings.read(weights)
        let model = try SwinUNETRFile.load(weights, backend: backend)
        volume = VolumeSegmenter(model: model, backend: backend, window: SlidingWindowOptions(roi: settings.roi, overlap: settings.overlap))
    }

    /// The mask of `ct` on its own grid (resampled to the recorded spacing for the network and back).
    public func segment(_ ct: URL) throws -> ScanSegmentation {
        try ScanSegmentation.run(ct, segmenter: volume, preprocessing: Preprocessing(spacing: settings.spacing), largestComponent: largestComponent)
    }
}
