import AtomicFile
import Foundation
import Volumes

/// Writes the classifier's input for a set of cases — the 15 axial slices through each largest tumour as 16-bit
/// lossless PNG files — with manifest.csv (patient,slice,class,file). Cases without a tumour in their mask are
/// listed in no_tumour.csv instead; slicing.json records the settings (`SliceSettings`).
public enum SliceExport {
    public struct Case: Sendable {
        public var patient: String, image: URL, mask: URL, type: String
        public init(patient: String, image: URL, mask: URL, type: String) {
            self.patient = patient; self.image = image; self.mask = mask; self.type = type
        }
    }

    /// Per case written: its slice numbers and centre; `missing`: the patients without a tumour.
    public struct Written: Sendable {
        public var slices: [(patient: String, first: Int, last: Int, centre: Int, voxels: Int)] = []
        public var missing: [String] = []
    }

    /// The labeled cases of a dataset, with the manifest's tumour types.
    public static func cases(of dataset: [CaseEntry]) -> [Case] {
        dataset.compactMap { c in c.label.map { Case(patient: c.patient, image: c.image, mask: $0, type: c.tumourType?.rawValue ?? "") } }
    }

    public static func write(_ cases: [Case], to dir: URL, settings: SliceSettings = SliceSettings(),
                             progress: (String) -> Void = { _ in }) throws -> Written {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try settings.write(folder: dir)
        for c in cases { try CaseName.check(c.patient, "\(c.image.path): patient id") }
        var manifest = ["patient,slice,class,file"], written = Written()
        for c in cases {
            let (image, _) = try NIfTI.read(c.image), (label, _) = try NIfTI.read(c.mask)
            try NIfTI.checkPair(image: image, imageFile: c.image.path, label: label, labelFile: c.mask.path)
            try NIfTI.checkLabels(label, file: c.mask.path)
            let img = try Preprocessing.orient(image), lab = try Preprocessing.orient(label)
            guard let s = try TumourSlices.extract(ct: img, label: lab, window: settings.window, marginMM: settings.marginMM) else {
                written.missing.append(c.patient)
                progress("\(c.patient): no tumour (label 2) in \(c.mask.lastPathComponent); no slices written")
                continue
            }
            let n = s.size * s.size
            for (i, k) in s.sliceIndices.enumerated() {
                let name = "\(c.patient)_slice\(String(format: "%02d", i)).png"
                try PNGFile.writeGray16(Array(s.images[i * n..<(i + 1) * n]), width: s.size, height: s.size, to: dir.appendingPathComponent(name))
                manifest.append(CSV.line([c.patient, String(k), c.type, name]))
            }
            written.slices.append((c.patient, s.sliceIndices.first!, s.sliceIndices.last!, s.centreSlice, s.componentSizes[s.largest]))
            progress("\(c.patient): \(s.count) slices \(s.sliceIndices.first!)–\(s.sliceIndices.last!) around slice \(s.centreSlice), tumour \(s.componentSizes[s.largest]) voxels")
        }
        try (manifest.joined(separator: "\n") + "\n").writeAtomically(to: dir.appendingPathComponent("manifest.csv"))
        let noTumour = dir.appendingPathComponent("no_tumour.csv")
        if written.missing.isEmpty {
            try? FileManager.default.removeItem(at: noTumour)
        } else {
            try (["patient"] + written.missing.map { CSV.line([$0]) }).joined(separator: "\n").appending("\n").writeAtomically(to: noTumour)
        }
        return written
    }
}
