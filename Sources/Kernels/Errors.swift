/// A tensor had the wrong shape for an op: names the op, the tensor and both shapes.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let detail: String

    public init(op: String, _ detail: String) {
        self.op = op
        self.detail = detail
    }

    public init(op: String, tensor: String, expected: String, actual: Shape) {
        self.init(op: op, "\(tensor) must be \(expected), got \(actual)")
    }

    public var description: String { "\(op): \(detail)" }
}

/// Device-level failures that are not OpenCL status codes.
public enum DeviceError: Error, CustomStringConvertible, Equatable {
    /// An allocation did not fit: `needed` bytes for the named tensor, with `inUse` bytes already held.
    case outOfMemory(tensor: String, needed: Int, inUse: Int, device: String)
    /// `--device` named something that is not there; lists what exists.
    case notFound(requested: String, available: [String])
    /// A tensor made by one backend was handed to another.
    case foreignTensor(op: String, tensor: String)
    case invalidSpecifier(String)

    public var description: String {
        switch self {
        case let .outOfMemory(tensor, needed, inUse, device):
            return "out of device memory: needed \(mib(needed)) MiB for \(tensor) on \(device) (\(mib(inUse)) MiB already in use)"
        case let .notFound(requested, available):
            let list = available.isEmpty ? "none" : available.joined(separator: "; ")
            return "no device '\(requested)': available devices: \(list)"
        case let .foreignTensor(op, tensor):
            return "\(op): tensor \(tensor) lives on another backend"
        case let .invalidSpecifier(s):
            return "invalid device '\(s)': use cpu, opencl or opencl:N"
        }
    }
}

func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
