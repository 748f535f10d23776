import Kernels
import Foundation
import SafeTensors

/// A strict load found differences between a file and a model; lists every one.
public struct StateDictError: Error, CustomStringConvertible {
    public let file: String
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var shapeMismatches: [String] = []
    /// Tensors holding NaN or ±inf, with how many: such weights would run and give garbage (an all-background mask).
    public var nonFinite: [(key: String, count: Int)] = []

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
        if !shapeMismatches.isEmpty { parts.append("shape mismatches: " + shapeMismatches.joined(separator: ", ")) }
        if !nonFinite.isEmpty {
            let tensors = nonFinite.map { "tensor \($0.key) holds \($0.count) NaN/inf value\($0.count == 1 ? "" : "s")" }
            if parts.isEmpty { return "\(file): " + tensors.joined(separator: "; ") }
            parts += tensors
        }
        return "\(file): state dict does not match the model: " + parts.joined(separator: "; ")
    }
}

extension Module {
    /// Loads every parameter and buffer from `file` (keys `prefix` + the model's keys), as
    /// `load_state_dict(strict=True)`: no key missing, none unused under `prefix`, shapes equal.
    /// `ignoring` lists keys the file may carry that the model recomputes (MONAI's relative_position_index).
    /// A tensor holding NaN or ±inf is refused (named, with its count) before anything is assigned.
    public func load(from file: SafeTensorsFile, prefix: String = "", ignoring: Set<String> = [], backend: Backend) throws {
        var error = StateDictError(file: file.name)
        let params = namedParameters(prefix: prefix), buffers = namedBuffers(prefix: prefix)
        let counters = namedBatchNorms(prefix: prefix).map { $0.0 + "num_batches_tracked" }
        let expected = Set(params.map(\.0) + buffers.map(\.0) + counters)
        for key in file.keys where key.hasPrefix(prefix) && !expected.contains(key) && !ignoring.contains(key) {
            error.unexpected.append(key)
        }
        func tensor(_ key: String, _ shape: Shape) throws -> Tensor? {
            guard let info = file.tensors[key] else { error.missing.append(key); return nil }
            guard info.shape == shape.dims else {
                error.shapeMismatches.append("\(key) file \(info.shape) model \(shape)")
                return nil
            }
            let values = try file.floats(key)
            let bad = values.reduce(0) { $1.isFinite ? $0 : $0 + 1 }
            guard bad == 0 else { error.nonFinite.append((key, bad)); return nil }
            return try backend.upload(values, shape: shape, name: key)
        }
        var loaded: [(Tensor, (Tensor) throws -> Void)] = []
        for (k, p) in params { if let t = try tensor(k, p.value.shape) { loaded.append((t, p.assign)) } }
        for (k, b) in buffers { if let t = try tensor(k, b.value.shape) { loaded.append((t, b.assign)) } }
        for (k, bn) in namedBatchNorms(prefix: prefix) {
            let key = k + "num_batches_tracked"
            if file.tensors[key] == nil { error.missing.append(key) } else { bn.batchesTracked = Int(try file.integers(key).first ?? 0) }
        }
        guard error.missing.isEmpty, error.unexpected.isEmpty, error.shapeMismatches.isEmpty, error.nonFinite.isEmpty else { throw error }
        for (t, assign) in loaded { try assign(t) }
    }

    /// Writes parameters and buffers under their PyTorch keys (F32; counters as I64).
    public func stateDict(into writer: inout SafeTensorsWriter, prefix: String = "", backend: Backend) throws {
        for (k, p) in namedParameters(prefix: prefix) { try writer.add(k, try backend.download(p.value), shape: p.value.shape.dims) }
        for (k, b) in namedBuffers(prefix: prefix) {
            let values = try backend.download(b.value)
            if b.fileType == .I64 {
                let ints = values.map { Int64($0).littleEndian }
                let bytes = ints.withUnsafeBytes { Data($0) }
                try writer.addRaw(k, dtype: .I64, shape: b.value.shape.dims, bytes: bytes)
            } else {
                try writer.add(k, values, shape: b.value.shape.dims)
            }
        }
        for (k, bn) in namedBatchNorms(prefix: prefix) {
            var v = Int64(bn.batchesTracked).littleEndian
            try writer.addRaw(k + "num_batches_tracked", dtype: .I64, shape: [], bytes: withUnsafeBytes(of: &v) { Data($0) })
        }
    }

    func namedBatchNorms(prefix: String) -> [(String, BatchNorm2d)] {
        (self is BatchNorm2d ? [(prefix, self as! BatchNorm2d)] : [])
            + children.flatMap { $0.1.namedBatchNorms(prefix: prefix + $0.0 + ".") }
    }
}
