import Foundation

/// `cpu`, `opencl` (= opencl:0) or `opencl:N`, as given to `--device` or `SWINLIVER_DEVICE`.
public enum DeviceSpecifier: Equatable, Sendable, CustomStringConvertible {
    case cpu
    case opencl(index: Int)

    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s == "cpu" { self = .cpu; return }
        if s == "opencl" { self = .opencl(index: 0); return }
        if s.hasPrefix("opencl:"), let n = Int(s.dropFirst(7)), n >= 0 { self = .opencl(index: n); return }
        throw DeviceError.invalidSpecifier(text)
    }

    /// The one rule every command follows: `--device` when given, else `SWINLIVER_DEVICE`, else the fastest
    /// device (`fastest(among:)`). The default is announced by the caller (a choice, not a fallback after a failure).
    public static func resolve(_ option: String?, environment: [String: String]) throws -> DeviceSpecifier {
        if let option { return try DeviceSpecifier(parsing: option) }
        if let env = environment["SWINLIVER_DEVICE"], !env.isEmpty { return try DeviceSpecifier(parsing: env) }
        return fastest(among: try listOpenCLDevices().map { (index: $0.index, isGPU: $0.isGPU) })
    }

    /// The first OpenCL GPU, else the CPU backend: an OpenCL CPU driver (PoCL) is slower than the CPU
    /// backend's OpenBLAS path, so it runs only when asked for.
    public static func fastest(among devices: [(index: Int, isGPU: Bool)]) -> DeviceSpecifier {
        devices.first(where: \.isGPU).map { .opencl(index: $0.index) } ?? .cpu
    }

    public var description: String {
        switch self { case .cpu: "cpu"; case let .opencl(i): "opencl:\(i)" }
    }

    /// Creates the backend. Asking for OpenCL where there is none is an error listing what exists.
    public func makeBackend(profiling: Bool = false) throws -> Backend {
        switch self {
        case .cpu: return CPUBackend()
        case let .opencl(index): return try OpenCLBackend(index: index, profiling: profiling)
        }
    }
}
