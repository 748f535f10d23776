import Foundation
import Kernels
import SafeTensors

/// A Swin UNETR weights file: MONAI `state_dict()` keys, and the constructor arguments as JSON in the
/// safetensors metadata (`config`), with `format` = "swinliver.swin_unetr.v1".
public enum SwinUNETRFile {
    public static let format = "swinliver.swin_unetr.v1"

    /// The model's hyper-parameters from `--config` (the fixture's config.json form, or a bare
    /// constructor-argument object) or, without one, from the weights' metadata.
    public static func config(weights: SafeTensorsFile, configFile: URL?) throws -> SwinUNETRConfig {
        if let configFile {
            let data = try Data(contentsOf: configFile)
            let any = try JSONSerialization.jsonObject(with: data)
            guard let obj = any as? [String: Any] else { throw ConfigError(message: "\(configFile.path): not a JSON object") }
            let args = obj["constructor_args"] ?? obj
            return try JSONDecoder().decode(SwinUNETRConfig.self, from: try JSONSerialization.data(withJSONObject: args))
        }
        guard let json = weights.metadata["config"] else {
            throw ConfigError(message: "\(weights.name): no model config in the metadata; pass --config C.json")
        }
        return try JSONDecoder().decode(SwinUNETRConfig.self, from: Data(json.utf8))
    }

    /// Writes every parameter and buffer (MONAI keys) with the config in the metadata, atomically.
    /// `metadata` adds entries (the trainer records its preprocessing `spacing` and `roi`).
    public static func write(_ model: SwinUNETR, to url: URL, backend: Backend, metadata: [String: String] = [:]) throws {
        var w = SafeTensorsWriter()
        w.metadata = metadata.merging(["format": format, "config": String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self)]) { $1 }
        try model.stateDict(into: &w, backend: backend)
        try w.write(to: url)
    }

    /// Builds the model described by the file (or `configFile`) and loads it strictly.
    public static func load(_ url: URL, configFile: URL? = nil, backend: Backend) throws -> SwinUNETR {
        let file = try SafeTensorsFile(contentsOf: url)
        let model = try SwinUNETR(try config(weights: file, configFile: configFile), backend: backend)
        try model.load(weights: file, backend: backend)
        return model
    }
}
