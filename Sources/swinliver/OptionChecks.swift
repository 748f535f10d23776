import ArgumentParser
import Foundation

// Range checks for the commands' `validate()`. argument-parser runs validate() before run(); a
// ValidationError becomes a usage error (exit 64). The message names the option, the value and the
// allowed range. The same checks read inference settings from a weights file's metadata (`checked(in:)`
// turns them into a plain error that names the file).

/// Bounds of the options. A real run stays well inside them; a value outside is a typo or hostile input
/// that would trap, allocate terabytes or loop for days.
enum Limits {
    /// Swin UNETR halves its input 5 times (patch embedding + 4 merges): every size a multiple of 32
    /// (MONAI's `_check_input_size`, patch_size⁵).
    static let roiMultiple = 32
    static let roi = 32...512
    static let spacing = 0.1...20.0
    static let featureSize = 12...768
    static let batch = 1...1024
    static let epochs = 1...100_000
    static let steps = 1...1_000_000_000
    static let cases = 1...10_000
    static let inPlane = 16...1024
    static let classifierSize = 75...1024
    static let bootstrap = 1...100_000
    static let folds = 2...100
    static let samples = 1...256
    static let workers = 1...64
    static let label = 0...255
    static let huWindow = -100_000.0...100_000.0
}

/// An integer option within `range`.
func check(_ name: String, _ value: Int, in range: ClosedRange<Int>, _ note: String = "") throws {
    guard range.contains(value) else {
        throw ValidationError("\(name) \(value): must be between \(range.lowerBound) and \(range.upperBound)\(note)")
    }
}

/// An interval of real numbers, each end open or closed; NaN and ±inf are never inside.
struct Interval: CustomStringConvertible {
    var low: Double, high: Double
    var openLow = false, openHigh = false

    static func closed(_ low: Double, _ high: Double) -> Interval { Interval(low: low, high: high) }
    /// [low, high)
    static func upTo(_ low: Double, _ high: Double) -> Interval { Interval(low: low, high: high, openHigh: true) }
    /// (low, high]
    static func above(_ low: Double, _ high: Double) -> Interval { Interval(low: low, high: high, openLow: true) }
    /// (low, high)
    static func open(_ low: Double, _ high: Double) -> Interval { Interval(low: low, high: high, openLow: true, openHigh: true) }

    func contains(_ v: Double) -> Bool {
        v.isFinite && (openLow ? v > low : v >= low) && (openHigh ? v < high : v <= high)
    }

    var description: String { "\(openLow ? "(" : "[")\(number(low)), \(number(high))\(openHigh ? ")" : "]")" }
}

/// 1.0 → "1", 0.5 → "0.5", 1e-05 → "1e-05".
func number(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
}

/// A real-valued option: finite and inside `interval`.
func check(_ name: String, _ value: Double, in interval: Interval, _ note: String = "") throws {
    guard interval.contains(value) else {
        throw ValidationError("\(name) \(number(value)): must be a finite number in \(interval)\(note)")
    }
}

func check(_ name: String, _ value: Float, in interval: Interval, _ note: String = "") throws {
    guard interval.contains(Double(value)) else {
        let shown = value == value.rounded() && abs(value) < 1e7 ? String(Int(value)) : "\(value)"
        throw ValidationError("\(name) \(shown): must be a finite number in \(interval)\(note)")
    }
}

/// The entries of a comma list, trimmed; an empty entry ("1,,2") is an error.
func listEntries(_ text: String, _ name: String) throws -> [String] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard !parts.contains(where: \.isEmpty) else { throw ValidationError("\(name) '\(text)': empty entry in the comma list") }
    return parts
}

/// "1,2" → [1, 2]; every entry must be an integer (nothing is dropped silently).
func integerList(_ text: String, _ name: String) throws -> [Int] {
    try listEntries(text, name).map { s in
        guard let v = Int(s) else { throw ValidationError("\(name) \(text): '\(s)' is not an integer") }
        return v
    }
}

/// "512,512,200" → a volume grid (D, H, W): three sizes, each 1…1024.
func gridSize(_ text: String, _ name: String) throws -> [Int] {
    let s = try integerList(text, name)
    guard s.count == 3, s.allSatisfy((1...1024).contains) else {
        throw ValidationError("\(name) \(text): needs three sizes, each between 1 and 1024")
    }
    return s
}

/// "1.5,2" → [1.5, 2]; every entry must be a finite number.
func numberList(_ text: String, _ name: String) throws -> [Double] {
    try listEntries(text, name).map { s in
        guard let v = Double(s), v.isFinite else { throw ValidationError("\(name) \(text): '\(s)' is not a finite number") }
        return v
    }
}

/// N or N,N,N → three values.
func triple<T>(_ v: [T], _ name: String, _ text: String) throws -> [T] {
    guard v.count == 1 || v.count == 3 else { throw ValidationError("\(name) \(text): needs N or N,N,N (got \(v.count) values)") }
    return v.count == 1 ? [v[0], v[0], v[0]] : v
}

/// A Swin UNETR input size ("96" or "96,96,64", ROI or sliding window): each axis a multiple of 32 in
/// 32…512, and at least one axis 64 or more.
func roiTriple(_ text: String, _ name: String) throws -> [Int] {
    let v = try triple(try integerList(text, name), name, text)
    try checkROI(v, name, shown: text)
    return v
}

/// The ROI rule on sizes already parsed. Five halvings leave size/32 voxels per axis at the bottleneck,
/// where the encoder's instance norm needs more than one voxel in all: 32³ would leave exactly one.
func checkROI(_ v: [Int], _ name: String, shown: String) throws {
    guard v.allSatisfy({ Limits.roi.contains($0) && $0 % Limits.roiMultiple == 0 }) else {
        throw ValidationError("\(name) \(shown): each size must be between \(Limits.roi.lowerBound) and \(Limits.roi.upperBound) and a multiple of 32 "
                              + "(Swin UNETR halves its input 5 times)")
    }
    guard v.contains(where: { $0 >= 64 }) else {
        throw ValidationError("\(name) \(shown): Swin UNETR needs at least 64 on one axis (5 halvings of 32 leave a single voxel at the "
                              + "bottleneck, and its instance norm needs more than one)")
    }
}

/// Resampling spacing in mm ("1.5" or "1.5,1.5,2"): each finite in [0.1, 20].
func spacingTriple(_ text: String, _ name: String) throws -> [Double] {
    let v = try triple(try numberList(text, name), name, text)
    guard v.allSatisfy(Limits.spacing.contains) else {
        throw ValidationError("\(name) \(text): each spacing must be between \(number(Limits.spacing.lowerBound)) and "
                              + "\(number(Limits.spacing.upperBound)) mm")
    }
    return v
}

/// The synthetic CT's in-plane grid "I,J": each 16…1024.
func inPlaneGrid(_ text: String, _ name: String = "--in-plane") throws -> (Int, Int) {
    let v = try integerList(text, name)
    guard v.count == 2 else { throw ValidationError("\(name) \(text): needs I,J") }
    guard v.allSatisfy(Limits.inPlane.contains) else {
        throw ValidationError("\(name) \(text): each size must be between \(Limits.inPlane.lowerBound) and \(Limits.inPlane.upperBound)")
    }
    return (v[0], v[1])
}

/// Label ids of a mask ("1,2"): integers in 0…255, at least one.
func labelIDs(_ text: String, _ name: String = "--labels") throws -> [Int] {
    let v = try integerList(text, name)
    guard v.allSatisfy(Limits.label.contains) else {
        throw ValidationError("\(name) \(text): each label must be between \(Limits.label.lowerBound) and \(Limits.label.upperBound)")
    }
    return v
}

/// Swin UNETR's feature size: a multiple of 12 in 12…768.
func checkFeatureSize(_ value: Int, _ name: String = "--feature-size") throws {
    guard Limits.featureSize.contains(value), value % 12 == 0 else {
        throw ValidationError("\(name) \(value): must be a multiple of 12 between \(Limits.featureSize.lowerBound) and \(Limits.featureSize.upperBound)")
    }
}

/// A problem in a file's content (weights metadata, a config): a plain error naming the file (exit 1),
/// not a usage error.
struct InputError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Runs a check on a value read from `file` (its metadata `key`); a refusal names the file.
func checked<T>(in file: String, key: String, _ body: (String) throws -> T) throws -> T {
    do { return try body("metadata '\(key)'") } catch let e as ValidationError {
        throw InputError("\(file): \(e.message)")
    }
}
