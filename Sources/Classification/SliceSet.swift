import Foundation
import Volumes
import SeededRandom

/// One patient's classifier input: `slices` images of size × size in [0, 1] and the tumour class.
public struct PatientSlices: Sendable {
    public var patient: String
    public var label: Int
    public var images: [[Float]]
    public var size: Int
    public init(patient: String, label: Int, images: [[Float]], size: Int) {
        self.patient = patient; self.label = label; self.images = images; self.size = size
    }
}

/// The tumour classes in the order of the classifier's outputs (defined once, by `TumourType`).
public let tumourClassNames = TumourType.allCases.map(\.rawValue)

public enum SliceSet {
    /// Reads a `swinliver slices` folder (manifest.csv + 16-bit PNG files), resized to `size` when it
    /// differs (torch bilinear). Rows without a known class are an error naming the line.
    public static func read(_ dir: URL, size: Int? = nil) throws -> [PatientSlices] {
        let url = dir.appendingPathComponent("manifest.csv")
        let rows = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline).enumerated().map { n, line in
            guard let f = CSV.fields(line) else { throw SliceError(problem: "\(url.path) line \(n + 1): a quoted field is not closed") }
            return f
        }
        guard rows.first == ["patient", "slice", "class", "file"] else {
            throw SliceError(problem: "\(url.path): expected the header patient,slice,class,file")
        }
        var byPatient: [String: PatientSlices] = [:], order: [String] = []
        for (n, r) in rows.dropFirst().enumerated() {
            guard r.count == 4, let label = tumourClassNames.firstIndex(of: r[2]) else {
                throw SliceError(problem: "\(url.path) line \(n + 2): class must be one of \(tumourClassNames.joined(separator: ", "))")
            }
            do {
                try CaseName.check(r[0], "\(url.path) line \(n + 2): patient")
                try CaseName.check(r[3], "\(url.path) line \(n + 2): file")
            } catch { throw SliceError(problem: "\(error)") }
            let png = try PNGFile.readGray(dir.appendingPathComponent(r[3]))
            guard png.width == png.height else { throw SliceError(problem: "\(r[3]): not square (\(png.width)×\(png.height))") }
            let scale: Float = png.bitDepth == 16 ? 65535 : 255
            var image = png.samples.map { Float($0) / scale }
            let side = size ?? png.width
            if side != png.width { image = TumourSlices.bilinear(image, h: png.height, w: png.width, size: side) }
            if byPatient[r[0]] == nil { order.append(r[0]); byPatient[r[0]] = PatientSlices(patient: r[0], label: label, images: [], size: side) }
            guard byPatient[r[0]]!.label == label else { throw SliceError(problem: "\(url.path) line \(n + 2): patient \(r[0]) has two classes") }
            byPatient[r[0]]!.images.append(image)
        }
        guard !order.isEmpty else { throw SliceError(problem: "\(url.path): no slices") }
        return order.map { byPatient[$0]! }
    }

    /// Patient-level stratified k-fold assignment (scikit-learn StratifiedKFold's idea): each class's
    /// patients are shuffled (seeded) and dealt to the folds in turn, so every fold has about the same
    /// class mix and no patient is in two folds. Returns the fold of each patient.
    public static func stratifiedFolds(labels: [Int], folds k: Int, seed: UInt64) throws -> [Int] {
        guard k >= 2, labels.count >= k else { throw SliceError(problem: "\(k) folds need at least \(k) patients, got \(labels.count)") }
        var rng = SplitMix64(seed: seed)
        var fold = [Int](repeating: 0, count: labels.count)
        var next = 0
        for c in Set(labels).sorted() {
            var members = labels.indices.filter { labels[$0] == c }
            for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, rng.below(i + 1)) }
            for m in members { fold[m] = next % k; next += 1 }
        }
        return fold
    }
}
