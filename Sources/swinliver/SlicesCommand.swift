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
    @Option(help: "Widen the crop around the tumour by this many mm on every side (0: the paper's tight box).") var margin = 0.0
    @Option(help: "Tumour type for the manifest (with --ct).") var type: String?
    @Option(help: "Patient id for the manifest (with --ct; default: the CT's file name).") var patient: String?

    func validate() throws {
        guard (ct != nil && mask != nil) != (data != nil) else { throw ValidationError("give --ct and --mask, or --data") }
        guard SliceWindow(rawValue: window) != nil else { throw ValidationError("--window must be auto or none") }
        try check("--margin", margin, in: .closed(0, 1000))
        do {
            if let patient { try CaseName.check(patient, "--patient") }
        } catch { throw ValidationError("\(error)") }
        if let type, !tumourClassNames.contains(type) {
            throw ValidationError("--type '\(type)' must be one of \(tumourClassNames.joined(separator: ", "))")
        }
    }

    func run() throws {
        let cases: [SliceExport.Case]
        if let data {
            cases = SliceExport.cases(of: try Dataset.cases(at: URL(fileURLWithPath: data)))
        } else {
            let url = URL(fileURLWithPath: ct!)
            cases = [SliceExport.Case(patient: patient ?? NIfTI.stem(url.lastPathComponent) ?? url.lastPathComponent, image: url,
                                      mask: URL(fileURLWithPath: mask!), type: type ?? "")]
        }
        let dir = URL(fileURLWithPath: out)
        let written = try SliceExport.write(cases, to: dir, settings: SliceSettings(window: SliceWindow(rawValue: window)!, marginMM: margin)) { print($0) }
        if !written.missing.isEmpty {
            print("\(written.missing.count) case(s) without a tumour listed in \(dir.appendingPathComponent("no_tumour.csv").path)")
        }
    }
}
