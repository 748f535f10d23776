import Foundation
import Kernels
import Models
import SafeTensors

/// Where a run stands: enough to continue it exactly (the data order and every random draw are functions
/// of the seed and these counters).
public struct RunPosition: Codable, Equatable, Sendable {
    public var step = 0           // optimiser steps taken
    public var epoch = 0          // current epoch (0-based)
    public var batchInEpoch = 0   // batches of `epoch` already consumed
    public var bestScore: Double? // best validation score so far (fine-tuning)
    public var bestEpoch: Int?
    public init() {}
}

/// A training checkpoint: the model's state dict (PyTorch keys), AdamW's moments under
/// `optimizer.exp_avg.<key>` / `optimizer.exp_avg_sq.<key>`, and in the metadata the position
/// (`position`), the optimiser's step count and hyper-parameters, and the run's options (`options`).
/// Written atomically (temporary file, fsync, rename), so a killed run leaves the previous one intact.
public enum TrainingCheckpoint {
    public static let format = "swinliver.training_checkpoint.v1"

    public static func write(model: Module, optimizer: AdamW, position: RunPosition, options: String, to url: URL,
                             backend: Backend, extra: [String: Tensor] = [:]) throws {
        var w = SafeTensorsWriter()
        try model.stateDict(into: &w, backend: backend)
        for (name, t) in extra.sorted(by: { $0.key < $1.key }) {
            try w.add("extra.\(name)", try backend.download(t), shape: t.shape.dims)
        }
        for (key, m) in optimizer.moments.sorted(by: { $0.key < $1.key }) {
            try w.add("optimizer.exp_avg.\(key)", try backend.download(m.m), shape: m.m.shape.dims)
            try w.add("optimizer.exp_avg_sq.\(key)", try backend.download(m.v), shape: m.v.shape.dims)
        }
        w.metadata = ["format": format, "options": options,
                      "position": String(decoding: try JSONEncoder().encode(position), as: UTF8.self),
                      "optimizer": String(decoding: try JSONEncoder().encode(OptimizerState(step: optimizer.step, hyper: optimizer.hyper)), as: UTF8.self)]
        try w.write(to: url)
    }

    /// Restores model and optimiser in place; returns the position and the stored options JSON.
    public static func read(_ url: URL, model: Module, optimizer: AdamW, backend: Backend) throws
        -> (position: RunPosition, options: String)
    {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == format, let p = file.metadata["position"], let o = file.metadata["optimizer"] else {
            throw TrainingError(url.path, "not a SwinLiver training checkpoint (format \(file.metadata["format"] ?? "none"))")
        }
        let optimizerKeys = Set(file.keys.filter { $0.hasPrefix("optimizer.") || $0.hasPrefix("extra.") })
        try model.load(from: file, ignoring: optimizerKeys, backend: backend)
        let state = try JSONDecoder().decode(OptimizerState.self, from: Data(o.utf8))
        var moments: [String: (m: Tensor, v: Tensor)] = [:]
        for (key, p) in model.namedParameters() where file.tensors["optimizer.exp_avg.\(key)"] != nil {
            let m = try backend.upload(try file.floats("optimizer.exp_avg.\(key)"), shape: p.value.shape, name: "\(key) exp_avg")
            let v = try backend.upload(try file.floats("optimizer.exp_avg_sq.\(key)"), shape: p.value.shape, name: "\(key) exp_avg_sq")
            moments[key] = (m, v)
        }
        try optimizer.restore(step: state.step, hyper: state.hyper, moments: moments)
        return (try JSONDecoder().decode(RunPosition.self, from: Data(p.utf8)), file.metadata["options"] ?? "{}")
    }

    /// `--resume`: restores model and optimiser from `url` and returns where the run stood. A missing
    /// checkpoint, or one written with other options than `options`, is refused naming the file.
    public static func resume(_ url: URL, model: Module, optimizer: AdamW, options: String, backend: Backend) throws -> RunPosition {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError(url.path, "--resume: no checkpoint to resume from")
        }
        let (position, saved) = try read(url, model: model, optimizer: optimizer, backend: backend)
        guard saved == options else {
            throw TrainingError(url.path, "--resume with other options than the checkpoint's: \(saved)")
        }
        return position
    }

    /// The `extra.<name>` tensors of a checkpoint, by name, uploaded to `backend`.
    public static func extra(_ url: URL, backend: Backend) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(contentsOf: url)
        var out: [String: Tensor] = [:]
        for key in file.keys where key.hasPrefix("extra.") {
            let name = String(key.dropFirst("extra.".count))
            guard let info = file.tensors[key] else { continue }
            out[name] = try backend.upload(try file.floats(key), shape: Shape(info.shape), name: name)
        }
        return out
    }

    struct OptimizerState: Codable {
        var step: Int
        var hyper: AdamWHyper
    }
}
