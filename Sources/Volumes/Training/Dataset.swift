import AtomicFile
import Foundation

/// One scan: its CT, optional label, tumour type and patient.
public struct CaseEntry: Sendable, Equatable {
    public var image: URL
    public var label: URL?
    public var tumourType: TumourType?
    public var patient: String
    public var name: String { NIfTI.stem(image.lastPathComponent) ?? image.lastPathComponent }

    public init(image: URL, label: URL?, tumourType: TumourType?, patient: String) {
        self.image = image; self.label = label; self.tumourType = tumourType; self.patient = patient
    }
}

public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }

    public init(path: String, problem: String) { self.path = path; self.problem = problem }
}

/// Finds the cases of a dataset folder or manifest, in any of the supported layouts:
/// a CSV manifest (image,label,tumor_type,patient_id), the Medical Segmentation Decathlon (dataset.json,
/// imagesTr/, labelsTr/), LiTS (volume-N.nii, segmentation-N.nii), or a plain folder of CTs (unlabeled,
/// for pretraining).
public enum Dataset {
    public static func cases(at url: URL) throws -> [CaseEntry] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw DatasetError(path: url.path, problem: "no such file or folder")
        }
        if !isDir.boolValue { return try manifest(url) }
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
        if names.contains("manifest.csv") { return try manifest(url.appendingPathComponent("manifest.csv")) }
        if names.contains("dataset.json") { return try decathlon(url) }
        if names.contains(where: { $0.hasPrefix("volume-") }) { return try lits(url, names) }
        let ct = names.filter { NIfTI.stem($0) != nil }.sorted()
        guard !ct.isEmpty else { throw DatasetError(path: url.path, problem: "no NIfTI files, manifest.csv or dataset.json") }
        return ct.map { CaseEntry(image: url.appendingPathComponent($0), label: nil, tumourType: nil, patient: $0) }
    }

    /// image,label,tumor_type,patient_id; paths relative to the CSV's folder. label / tumor_type may be empty.
    public static func manifest(_ url: URL) throws -> [CaseEntry] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline)
        guard let header = lines.first.flatMap(CSV.fields)?.map({ $0.trimmingCharacters(in: .whitespaces) }),
              let ii = header.firstIndex(of: "image") else {
            throw DatasetError(path: url.path, problem: "needs a header with image,label,tumor_type,patient_id")
        }
        let li = header.firstIndex(of: "label"), ti = header.firstIndex(of: "tumor_type"), pi = header.firstIndex(of: "patient_id")
        let base = url.deletingLastPathComponent()
        return try lines.dropFirst().enumerated().map { n, line in
            guard let f = CSV.fields(line)?.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
                throw DatasetError(path: url.path, problem: "line \(n + 2): a quoted field is not closed")
            }
            func field(_ i: Int?) -> String? { i.flatMap { $0 < f.count && !f[$0].isEmpty ? f[$0] : nil } }
            guard let image = field(ii) else { throw DatasetError(path: url.path, problem: "line \(n + 2): no image") }
            var type: TumourType?
            if let t = field(ti) {
                guard let tt = TumourType(rawValue: t) else {
                    throw DatasetError(path: url.path, problem: "line \(n + 2): tumor_type '\(t)' is not HCC, ICC or CRLM")
                }
                type = tt
            }
            return CaseEntry(image: resolve(image, base), label: field(li).map { resolve($0, base) }, tumourType: type,
                             patient: field(pi) ?? image)
        }
    }

    static func resolve(_ path: String, _ base: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
    }

    static func decathlon(_ dir: URL) throws -> [CaseEntry] {
        let file = dir.appendingPathComponent("dataset.json")
        guard let json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any],
              let training = json["training"] as? [[String: String]] else {
            throw DatasetError(path: file.path, problem: "no 'training' list")
        }
        return training.compactMap { t in
            guard let image = t["image"] else { return nil }
            let img = resolve(image.replacingOccurrences(of: "./", with: ""), dir)
            return CaseEntry(image: img, label: t["label"].map { resolve($0.replacingOccurrences(of: "./", with: ""), dir) },
                             tumourType: nil, patient: img.lastPathComponent)
        }
    }

    static func lits(_ dir: URL, _ names: [String]) throws -> [CaseEntry] {
        names.filter { $0.hasPrefix("volume-") && NIfTI.stem($0) != nil }.sorted().map { v in
            let id = v.dropFirst("volume-".count).split(separator: ".")[0]
            let seg = names.first { $0.hasPrefix("segmentation-\(id).") }
            return CaseEntry(image: dir.appendingPathComponent(v), label: seg.map { dir.appendingPathComponent($0) },
                             tumourType: nil, patient: "LiTS-\(id)")
        }
    }
}

/// A seeded split by patient (no patient on both sides), written to a file and reused when it exists.
/// With strata (patient → group, e.g. the tumour type) the split is proportional within each group, as
/// scikit-learn's `train_test_split(stratify=)`: a small cohort keeps every type on both sides.
public struct Split: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var trainPatients: [String]
    public var validationPatients: [String]

    public init(seed: UInt64, trainPatients: [String], validationPatients: [String]) {
        self.seed = seed; self.trainPatients = trainPatients; self.validationPatients = validationPatients
    }

    /// Patients are shuffled (seeded) within their stratum, the strata laid end to end in name order, and
    /// the validation patients taken at evenly spaced positions of that list (systematic sampling), so each
    /// stratum gives its share; patients missing from `strata` form one stratum of their own.
    public static func make(patients: [String], strata: [String: String] = [:], trainFraction: Double = 0.7,
                            seed: UInt64) -> Split {
        let ids = Array(Set(patients)).sorted()
        var rng = SampleRandom(seed: seed)
        var ordered: [String] = []
        for group in Set(ids.map { strata[$0] ?? "" }).sorted() {
            var members = ids.filter { (strata[$0] ?? "") == group }
            for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, rng.below(i + 1)) }
            ordered += members
        }
        let n = min(max(1, Int((Double(ids.count) * trainFraction).rounded())), max(ids.count - 1, 1))
        let validationCount = ids.count - n
        let picked = Set((0..<validationCount).map { (2 * $0 + 1) * ids.count / (2 * validationCount) })
        let validation = ordered.indices.filter { picked.contains($0) }.map { ordered[$0] }
        let train = ordered.indices.filter { !picked.contains($0) }.map { ordered[$0] }
        return Split(seed: seed, trainPatients: train.sorted(), validationPatients: validation.sorted())
    }

    /// Patient → tumour type for the cases that have one (the strata of `make`).
    public static func strata(of cases: [CaseEntry]) -> [String: String] {
        Dictionary(cases.compactMap { c in c.tumourType.map { (c.patient, $0.rawValue) } }, uniquingKeysWith: { a, _ in a })
    }

    /// Reads `file` when it exists (and covers these patients), else makes the split and writes it.
    public static func load(or file: URL, patients: [String], strata: [String: String] = [:], trainFraction: Double = 0.7,
                            seed: UInt64) throws -> Split {
        if let data = try? Data(contentsOf: file) {
            let s = try JSONDecoder().decode(Split.self, from: data)
            guard Set(s.trainPatients + s.validationPatients) == Set(patients) else {
                throw DatasetError(path: file.path, problem: "split file lists other patients than the dataset; delete it to re-split")
            }
            return s
        }
        let s = make(patients: patients, strata: strata, trainFraction: trainFraction, seed: seed)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try enc.encode(s).writeAtomically(to: file)
        return s
    }
}
