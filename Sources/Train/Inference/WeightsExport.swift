import Foundation
import Kernels
import Models
import SafeTensors
import TrainingLoop

/// `export`: inference weights (MONAI SwinUNETR keys, the config and the `InferenceSettings` in the metadata) from a
/// `train` checkpoint — the AdamW moments and the run position left out — or from a weights file, re-written. Invalid
/// settings are refused here rather than copied into a file `segment` would then reject.
public enum WeightsExport {
    /// Writes `out` from `source`; returns the model written.
    @discardableResult
    public static func export(_ source: URL, to out: URL, backend: Backend) throws -> SwinUNETR {
        let file = try SafeTensorsFile(contentsOf: source)
        let model: SwinUNETR
        let settings: InferenceSettings
        if file.metadata["format"] == TrainingCheckpoint.format {
            guard let json = file.metadata["options"], let o = try? JSONDecoder().decode(FineTuneOptions.self, from: Data(json.utf8)) else {
                throw TrainingError(source.path, "not a `train` checkpoint (a pretraining checkpoint's encoder is encoder.safetensors)")
            }
            settings = try InferenceSettings(metadata: o.inferenceSettings.metadata, file: source.path)
            guard (12...768).contains(o.featureSize), o.featureSize % 12 == 0 else {
                throw TrainingError(source.path, "metadata 'options' feature_size \(o.featureSize): must be a multiple of 12 between 12 and 768")
            }
            model = try SwinUNETR(SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: o.featureSize), backend: backend)
            try model.load(from: file, ignoring: Set(file.keys.filter { $0.hasPrefix("optimizer.") || $0.hasPrefix("extra.") }), backend: backend)
        } else {
            settings = try InferenceSettings(metadata: file.metadata, file: source.path)
            model = try SwinUNETRFile.load(source, backend: backend)
        }
        try SwinUNETRFile.write(model, to: out, backend: backend, metadata: settings.metadata)
        return model
    }
}
