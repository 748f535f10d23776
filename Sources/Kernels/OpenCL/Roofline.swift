/// What a launch asks of the device: floating-point operations, and bytes of compulsory global-memory traffic
/// (each input read once, each output written once). Launchers that know better say so; the default for a
/// kernel is one flop and one float per buffer argument per work-item (exact for elementwise kernels).
public struct KernelCost: Sendable, Equatable {
    public var flops: Double
    public var bytes: Double
    public init(flops: Double, bytes: Double) { self.flops = flops; self.bytes = bytes }
}

/// A device's roofline: the GEMM rate it reaches through CLBlast, its FP32 peak for everything else, its memory
/// bandwidth. A launch cannot take less than max(flops / rate, bytes / bandwidth).
public struct RooflineProfile: Sendable {
    public let name: String
    public let gemmFlops: Double, fp32Flops: Double, bytesPerSecond: Double

    /// Measured on a lent H100 (2026-11-26): CLBlast SGEMM 32.7 TFLOP/s; FP32 peak 51 TFLOP/s; HBM3 ~3.0 TB/s.
    public static let h100 = RooflineProfile(name: "H100 (CLBlast SGEMM 33 TFLOP/s, FP32 51 TFLOP/s, 3.0 TB/s)",
                                             gemmFlops: 33e12, fp32Flops: 51e12, bytesPerSecond: 3.0e12)

    func lowerBound(_ c: KernelCost, gemm: Bool) -> Double {
        max(c.flops / (gemm ? gemmFlops : fp32Flops), c.bytes / bytesPerSecond)
    }
}

/// Per kernel family (the .cl program, or CLBlast's GEMM): launches, flops, bytes and the summed per-launch
/// lower bound on the H100 profile, since the backend was made (`OpenCLBackend.roofline`; a backend made with
/// profiling only, like the per-kernel times: it costs nothing on the hot path otherwise).
public struct RooflineRow: Sendable {
    public var family: String
    public var launches = 0
    public var flops = 0.0, bytes = 0.0
    /// Σ over launches of max(flops / rate, bytes / bandwidth) on `RooflineProfile.h100`, seconds.
    public var h100Seconds = 0.0
}

extension OpenCLBackend {
    /// Adds one launch to its family's row.
    func account(_ family: String, _ cost: KernelCost, gemm: Bool = false) {
        var row = rooflineRows[family] ?? RooflineRow(family: family)
        row.launches += 1
        row.flops += cost.flops
        row.bytes += cost.bytes
        row.h100Seconds += RooflineProfile.h100.lowerBound(cost, gemm: gemm)
        rooflineRows[family] = row
    }

    /// The rows so far, largest lower bound first.
    public var roofline: [RooflineRow] { rooflineRows.values.sorted { $0.h100Seconds > $1.h100Seconds } }
}

extension Array where Element == RooflineRow {
    /// Per family: self − earlier (the launches, flops, bytes and lower bound of the steps in between).
    public func since(_ earlier: [RooflineRow]) -> [RooflineRow] {
        let before = Dictionary(uniqueKeysWithValues: earlier.map { ($0.family, $0) })
        return compactMap { r in
            var d = r
            if let b = before[r.family] {
                d.launches -= b.launches
                d.flops -= b.flops
                d.bytes -= b.bytes
                d.h100Seconds -= b.h100Seconds
            }
            return d.launches > 0 ? d : nil
        }.sorted { $0.h100Seconds > $1.h100Seconds }
    }
}

/// The roofline family of a profiled kernel name (its .cl program, or CLBlast's GEMM).
public func rooflineFamily(ofKernel name: String) -> String {
    name.hasPrefix("clblast_") ? "gemm (CLBlast)" : (KernelName(rawValue: name)?.program ?? name)
}
