import AtomicFile
import ArgumentParser
import Classification
import Foundation
import Volumes

/// `swinliver slices`: the classifier's input — 15 axial slices through the largest tumour — as 16-bit
/// lossless PNG files with a CSV manifest.
struct SlicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slices",
        abstract: "Extract the 15 axial slices through the largest tumour (299 × 299, 16-bit PNG) with a manifest.")
    @Option(help: "CT volume (with --mask).") var ct: String?
    @Option(help: "Label mask (0 background, 1 liver, 2 tumour), ground truth or predicted.") var mask: String?
    @Option(help: "A dataset (manifest.csv / dataset.json folder) instead of --ct/--mask: every labeled case.") var data: String?
    @Option(help: "Output folder.") var out: String
    @Option(help: "auto (per-study window from the liver's HU range) or none (raw HU).") var window = "auto"
    @Option(help: "Tumour type for the manifest (with --ct).") var type: String?
    @Option(help: "Patient id for the manifest (with --ct; default: the CT's file name).") var patient: String?

    func validate() throws {
        guard (ct != nil && mask != nil) != (data != nil) else { throw ValidationError("give --ct and --mask, or --data") }
        guard SliceWindow(rawValue: window) != nil else { throw ValidationError("--window must be auto or none") }
        do {
            if let patient { try CaseName.check(patient, "--patient") }
        } catch { throw ValidationError("\(error)") }
        if let type, !tumourClassNames.contains(type) {
            throw ValidationError("--type '\(type)' must be one of \(tumourClassNames.joined(separator: ", "))")
        }
    }

    func run() throws {
        let cases: [(patient: String, image: URL, label: URL, type: String)]
        if let data {
            cases = try Dataset.cases(at: URL(fileURLWithPath: data)).compactMap { c in
                c.label.map { (c.patient, c.image, $0, c.tumourType?.rawValue ?? "") }
            }
        } else {
            let url = URL(fileURLWithPath: ct!)
            cases = [(patient ?? NIfTI.stem(url.lastPathComponent) ?? url.lastPathComponent, url, URL(fileURLWithPath: mask!), type ?? "")]
        }
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var manifest = ["patient,slice,class,file"], missing: [String] = []
        for c in cases { try CaseName.check(c.patient, "\(c.image.path): patient id") }
        for c in cases {
            let (image, _) = try NIfTI.read(c.image), (label, _) = try NIfTI.read(c.label)
            try NIfTI.checkPair(image: image, imageFile: c.image.path, label: label, labelFile: c.label.path)
            try NIfTI.checkLabels(label, file: c.label.path)
            let img = try Preprocessing.orient(image), lab = try Preprocessing.orient(label)
            guard let s = try TumourSlices.extract(ct: img, label: lab, window: SliceWindow(rawValue: window)!) else {
                missing.append(c.patient)
                print("\(c.patient): no tumour (label 2) in \(c.label.lastPathComponent); no slices written")
                continue
            }
            let n = s.size * s.size
            for (i, k) in s.sliceIndices.enumerated() {
                let name = "\(c.patient)_slice\(String(format: "%02d", i)).png"
                try PNGFile.writeGray16(Array(s.images[i * n..<(i + 1) * n]), width: s.size, height: s.size, to: dir.appendingPathComponent(name))
                manifest.append(CSV.line([c.patient, String(k), c.type, name]))
            }
            print("\(c.patient): \(s.count) slices \(s.sliceIndices.first!)–\(s.sliceIndices.last!) around slice \(s.centreSlice), tumour \(s.componentSizes[s.largest]) voxels")
        }
        try (manifest.joined(separator: "\n") + "\n").writeAtomically(to: dir.appendingPathComponent("manifest.csv"))
        if !missing.isEmpty {
            try (["patient"] + missing.map { CSV.line([$0]) }).joined(separator: "\n").appending("\n")
                .writeAtomically(to: dir.appendingPathComponent("no_tumour.csv"))
            print("\(missing.count) case(s) without a tumour listed in \(dir.appendingPathComponent("no_tumour.csv").path)")
        }
    }
}
