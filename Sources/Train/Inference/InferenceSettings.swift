import Foundation
import SafeTensors
import TrainingLoop

/// How a Swin UNETR weights file segments a CT: the spacing its training resampled to, the sub-volume (ROI) the
/// sliding window uses, the windows' overlap and the names of its output classes. Training and `export` write them
/// into the weights' metadata (`spacing`, `roi`, `overlap`, `classes`); this is the one place that reads them back.
/// Files written before a key existed get its default (MONAI's Swin UNETR recipe).
public struct InferenceSettings: Equatable, Sendable {
    public var spacing: [Double]
    public var roi: [Int]
    public var overlap: Double
    public var classes: [String]

    public static let segmentationClasses = ["background", "liver", "tumour"]
    public static let spacingRange = 0.1...20.0
    public static let roiRange = 32...512

    public init(spacing: [Double] = [1.5, 1.5, 2.0], roi: [Int] = [96, 96, 96], overlap: Double = 0.5,
                classes: [String] = InferenceSettings.segmentationClasses) {
        self.spacing = spacing; self.roi = roi; self.overlap = overlap; self.classes = classes
    }

    /// The metadata entries (numbers as the options print them: "1.5,1.5,2.0", "96,96,96").
    public var metadata: [String: String] {
        ["spacing": spacing.map { "\($0)" }.joined(separator: ","), "roi": roi.map(String.init).joined(separator: ","),
         "overlap": "\(overlap)", "classes": classes.joined(separator: ",")]
    }

    /// The settings recorded in `metadata` (of `file`, named in errors); a value that is not valid is refused naming
    /// the file and the key, so no run starts from settings `segment` would reject.
    public init(metadata: [String: String], file: String) throws {
        self.init()
        func refuse(_ key: String, _ value: String, _ rule: String) -> TrainingError {
            TrainingError(file, "metadata '\(key)' \(value): \(rule)")
        }
        if let text = metadata["spacing"] {
            let v = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 3, v.allSatisfy({ $0.map(Self.spacingRange.contains) ?? false }) else {
                throw refuse("spacing", text, "needs 3 spacings, each between 0.1 and 20 mm")
            }
            spacing = v.map { $0! }
        }
        if let text = metadata["roi"] {
            let v = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 3, v.allSatisfy({ $0.map { Self.roiRange.contains($0) && $0 % 32 == 0 } ?? false }),
                  v.contains(where: { $0! >= 64 }) else {
                throw refuse("roi", text, "needs 3 sizes, each between 32 and 512 and a multiple of 32, one at least 64 "
                             + "(Swin UNETR halves its input 5 times)")
            }
            roi = v.map { $0! }
        }
        if let text = metadata["overlap"] {
            guard let v = Double(text), v >= 0, v < 1 else { throw refuse("overlap", text, "must be in [0, 1)") }
            overlap = v
        }
        if let text = metadata["classes"] {
            let v = text.split(separator: ",").map(String.init)
            guard v.count == Self.segmentationClasses.count, Set(v).count == v.count else {
                throw refuse("classes", text, "needs \(Self.segmentationClasses.count) distinct names")
            }
            classes = v
        }
    }

    /// The settings recorded in a weights file.
    public static func read(_ url: URL) throws -> InferenceSettings {
        try InferenceSettings(metadata: try SafeTensorsFile(contentsOf: url).metadata, file: url.path)
    }
}
