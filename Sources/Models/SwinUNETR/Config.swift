import Foundation

/// The hyper-parameters of MONAI's `SwinUNETR(...)`, with its constructor's argument names as
/// JSON keys (the fixture's `constructor_args`, and the `config` entry of a weights file's metadata).
public struct SwinUNETRConfig: Codable, Equatable, Sendable {
    public var inChannels = 1
    public var outChannels = 3
    public var patchSize = 2
    public var depths = [2, 2, 2, 2]
    public var numHeads = [3, 6, 12, 24]
    public var windowSize = 7
    public var qkvBias = true
    public var mlpRatio = 4.0
    public var featureSize = 48
    public var normName = "instance"
    public var dropRate = 0.0
    public var attnDropRate = 0.0
    public var dropoutPathRate = 0.0
    public var normalize = true
    public var patchNorm = false
    public var spatialDims = 3
    public var downsample = "merging"
    public var useV2 = false

    public init(inChannels: Int = 1, outChannels: Int = 3, featureSize: Int = 48) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.featureSize = featureSize
    }

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", patchSize = "patch_size", depths
        case numHeads = "num_heads", windowSize = "window_size", qkvBias = "qkv_bias", mlpRatio = "mlp_ratio"
        case featureSize = "feature_size", normName = "norm_name", dropRate = "drop_rate"
        case attnDropRate = "attn_drop_rate", dropoutPathRate = "dropout_path_rate", normalize
        case patchNorm = "patch_norm", spatialDims = "spatial_dims", downsample, useV2 = "use_v2"
    }

    /// Missing keys take MONAI's defaults (feature_size 24 when absent, as the constructor).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inChannels = try c.decode(Int.self, forKey: .inChannels)
        outChannels = try c.decode(Int.self, forKey: .outChannels)
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? 2
        depths = try c.decodeIfPresent([Int].self, forKey: .depths) ?? [2, 2, 2, 2]
        numHeads = try c.decodeIfPresent([Int].self, forKey: .numHeads) ?? [3, 6, 12, 24]
        windowSize = try c.decodeIfPresent(Int.self, forKey: .windowSize) ?? 7
        qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? true
        mlpRatio = try c.decodeIfPresent(Double.self, forKey: .mlpRatio) ?? 4
        featureSize = try c.decodeIfPresent(Int.self, forKey: .featureSize) ?? 24
        normName = try c.decodeIfPresent(String.self, forKey: .normName) ?? "instance"
        dropRate = try c.decodeIfPresent(Double.self, forKey: .dropRate) ?? 0
        attnDropRate = try c.decodeIfPresent(Double.self, forKey: .attnDropRate) ?? 0
        dropoutPathRate = try c.decodeIfPresent(Double.self, forKey: .dropoutPathRate) ?? 0
        normalize = try c.decodeIfPresent(Bool.self, forKey: .normalize) ?? true
        patchNorm = try c.decodeIfPresent(Bool.self, forKey: .patchNorm) ?? false
        spatialDims = try c.decodeIfPresent(Int.self, forKey: .spatialDims) ?? 3
        downsample = try c.decodeIfPresent(String.self, forKey: .downsample) ?? "merging"
        useV2 = try c.decodeIfPresent(Bool.self, forKey: .useV2) ?? false
    }

    /// Bounds that keep every value inside what the network can build: no trap, no giant allocation.
    public static let featureSizes = 12...768
    public static let channels = 1...64
    public static let depthRange = 1...64
    public static let windowSizes = 1...32
    public static let mlpRatios = 0.0...16.0

    /// MONAI's constructor checks, range checks on every size (a value outside would trap or allocate
    /// without bound), plus clear errors for options SwinLiver does not implement yet.
    public func validate() throws {
        func fail(_ m: String) -> ConfigError { ConfigError(message: m) }
        func range(_ r: ClosedRange<Int>) -> String { "between \(r.lowerBound) and \(r.upperBound)" }
        guard Self.channels.contains(inChannels) else { throw fail("in_channels \(inChannels) must be \(range(Self.channels))") }
        guard Self.channels.contains(outChannels) else { throw fail("out_channels \(outChannels) must be \(range(Self.channels))") }
        guard featureSize > 0, featureSize % 12 == 0 else { throw fail("feature_size should be divisible by 12.") }
        guard Self.featureSizes.contains(featureSize) else {
            throw fail("feature_size \(featureSize) must be \(range(Self.featureSizes)) (and divisible by 12)")
        }
        guard depths.count == 4, numHeads.count == 4 else { throw fail("depths and num_heads need 4 stages") }
        for (i, d) in depths.enumerated() where !Self.depthRange.contains(d) {
            throw fail("depths: stage \(i + 1) has \(d) blocks; each must be \(range(Self.depthRange))")
        }
        for (i, h) in numHeads.enumerated() {
            guard h >= 1 else { throw fail("num_heads: stage \(i + 1) has \(h) heads; each must be at least 1") }
            guard (featureSize << i) % h == 0 else {
                throw fail("stage \(i + 1): dim \(featureSize << i) is not divisible by num_heads \(h)")
            }
        }
        guard Self.windowSizes.contains(windowSize) else { throw fail("window_size \(windowSize) must be \(range(Self.windowSizes))") }
        guard mlpRatio.isFinite, mlpRatio > Self.mlpRatios.lowerBound, mlpRatio <= Self.mlpRatios.upperBound else {
            throw fail("mlp_ratio \(mlpRatio) must be a finite number in (0, \(Int(Self.mlpRatios.upperBound))]")
        }
        guard Int(Double(featureSize) * mlpRatio) >= 1 else {
            throw fail("mlp_ratio \(mlpRatio): the first stage's MLP would have no hidden units (feature_size × mlp_ratio < 1)")
        }
        for (name, r) in [("drop_rate", dropRate), ("attn_drop_rate", attnDropRate), ("dropout_path_rate", dropoutPathRate)]
            where !(0...1).contains(r) { throw fail("\(name) should be between 0 and 1.") }
        guard spatialDims == 3 else { throw fail("spatial_dims \(spatialDims) is not supported yet (3D only)") }
        guard patchSize == 2 else { throw fail("patch_size \(patchSize) is not supported (MONAI's Swin UNETR uses 2)") }
        guard downsample == "merging" else { throw fail("downsample '\(downsample)' is not supported yet (only 'merging')") }
        guard !useV2 else { throw fail("use_v2 is not supported yet") }
        guard !patchNorm else { throw fail("patch_norm is not supported yet") }
        guard normName.lowercased() == "instance" else { throw fail("norm_name '\(normName)' is not supported yet (only 'instance')") }
        guard dropRate == 0, attnDropRate == 0, dropoutPathRate == 0 else {
            throw fail("dropout in the Swin blocks is not implemented yet: set drop_rate, attn_drop_rate, dropout_path_rate to 0")
        }
    }

    /// MONAI's `_check_input_size`: every spatial size a multiple of patch_size⁵ = 32.
    public func checkInput(_ spatial: [Int]) throws {
        let m = Int(pow(Double(patchSize), 5))
        let wrong = spatial.enumerated().filter { $0.element % m != 0 || $0.element == 0 }.map { $0.offset + 2 }
        guard wrong.isEmpty else {
            throw ConfigError(message: "spatial dimensions \(wrong) of input image (spatial shape: \(spatial)) must be divisible by \(patchSize)**5.")
        }
    }
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}
