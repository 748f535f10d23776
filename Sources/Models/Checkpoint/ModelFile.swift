import Foundation
import Kernels
import SafeTensors

/// A Swin UNETR weights file: MONAI `state_dict()` keys, and the constructor arguments as JSON in the
/// safetensors metadata (`config`), with `format` = "swinliver.swin_unetr.v1".
public enum SwinUNETRFile {
    public static let format = "swinliver.swin_unetr.v1"

    /// The model's hyper-parameters from `--config` (the fixture's config.json form, or a bare
    /// constructor-argument object) or, without one, from the weights' metadata.
    /// The config is validated here; every error names the file it came from.
    public static func config(weights: SafeTensorsFile, configFile: URL?) throws -> SwinUNETRConfig {
        if let configFile {
            let path = configFile.path
            guard let data = try? Data(contentsOf: configFile) else { throw ConfigError(message: "\(path): cannot read the file") }
            guard let any = try? JSONSerialization.jsonObject(with: data) else { throw ConfigError(message: "\(path): not valid JSON") }
            guard let obj = any as? [String: Any] else { throw ConfigError(message: "\(path): not a JSON object") }
            let args = obj["constructor_args"] ?? obj
            guard args is [String: Any] else { throw ConfigError(message: "\(path): constructor_args is not a JSON object") }
            return try decode(try JSONSerialization.data(withJSONObject: args), source: path)
        }
        guard let json = weights.metadata["config"] else {
            throw ConfigError(message: "\(weights.name): no model config in the metadata; pass --config C.json")
        }
        return try decode(Data(json.utf8), source: "\(weights.name) (metadata 'config')")
    }

    /// Decodes and validates a config; a problem is one sentence naming `source` and the key.
    public static func decode(_ data: Data, source: String) throws -> SwinUNETRConfig {
        let config: SwinUNETRConfig
        do { config = try JSONDecoder().decode(SwinUNETRConfig.self, from: data) } catch let e as DecodingError {
            throw ConfigError(message: "\(source): \(culprit(data) ?? e.plainSentence)")
        } catch {
            throw ConfigError(message: "\(source): not valid JSON")
        }
        do { try config.validate() } catch let e as ConfigError { throw ConfigError(message: "\(source): \(e.message)") }
        return config
    }

    /// Foundation reports a number that does not fit its type (2.5 or 1e30 for an integer) as corrupt data with
    /// no key; decoding one key at a time finds it.
    static func culprit(_ data: Data) -> String? {
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        for key in obj.keys.sorted() {
            var probe: [String: Any] = ["in_channels": 1, "out_channels": 3]
            probe[key] = obj[key]
            guard let d = try? JSONSerialization.data(withJSONObject: probe) else { continue }
            do { _ = try JSONDecoder().decode(SwinUNETRConfig.self, from: d) } catch let e as DecodingError {
                if case .dataCorrupted(let c) = e, c.codingPath.isEmpty { return "key '\(key)' has a value out of range or of the wrong kind" }
                return e.plainSentence
            } catch { continue }
        }
        return nil
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
