import AtomicFile
import Foundation

/// How slices are cut from a CT (window and crop margin): written by `slices` into its folder (slicing.json), carried
/// into the classifier's weights by training, and read back by `run`, so a report cuts its slices as the classifier's
/// training slices were cut.
public struct SliceSettings: Equatable, Sendable, Codable, CustomStringConvertible {
    public var window: SliceWindow
    /// In-plane margin around the tumour's box, mm (0: the paper's tight box).
    public var marginMM: Double

    public init(window: SliceWindow = .auto, marginMM: Double = 0) { self.window = window; self.marginMM = marginMM }

    public static let file = "slicing.json"

    public var description: String { "window \(window.rawValue), margin \(marginMM) mm" }

    enum CodingKeys: String, CodingKey { case window, marginMM = "margin_mm" }

    /// The settings a slices folder was cut with; a folder from before slicing.json (or from elsewhere) was cut with the
    /// defaults.
    public static func read(folder: URL) throws -> SliceSettings {
        let url = folder.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return SliceSettings() }
        do {
            return try JSONDecoder().decode(SliceSettings.self, from: Data(contentsOf: url))
        } catch {
            throw SliceError(problem: "\(url.path): not slice settings (\(error))")
        }
    }

    public func write(folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).writeAtomically(to: folder.appendingPathComponent(Self.file))
    }

    /// As stored in a classifier's metadata.
    public var metadata: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }

    /// From a classifier's metadata (absent: the defaults, as classifiers trained before the key were).
    public init(metadata: String?, source: String) throws {
        guard let metadata else { self.init(); return }
        do {
            self = try JSONDecoder().decode(SliceSettings.self, from: Data(metadata.utf8))
        } catch {
            throw SliceError(problem: "\(source): metadata 'slicing' is not slice settings (\(error))")
        }
        guard marginMM.isFinite, marginMM >= 0 else { throw SliceError(problem: "\(source): slice margin \(marginMM) mm") }
    }
}
