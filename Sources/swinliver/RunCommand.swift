import AtomicFile
import ArgumentParser
import Classification
import Foundation
import Kernels
import Models
import Pipeline
import SafeTensors
import Train
import Volumes

/// `swinliver run`: CT in; liver and tumour segmentation, the largest tumour's type, a report out.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "End to end: segment, take the largest tumour, classify it, write mask + JSON + Markdown + key-slice PNG.")
    @Argument(help: "A CT (.nii / .nii.gz) or a folder of them.") var input: String
    @Option(name: .customLong("seg-weights"), help: "Swin UNETR weights (train / export).") var segWeights: String
    @Option(name: .customLong("cls-weights"), help: "Classifier weights (classify train).") var clsWeights: String
    @Option(help: "Output folder (one subfolder per CT).") var out: String
    @Option(name: .customLong("review-below"), help: "Flag for review when the top class probability is below this.") var reviewBelow = 0.6
    @Flag(name: .customLong("all-components"), help: "Keep every liver/tumour component (default: only the largest liver ∪ tumour component).")
    var allComponents = false
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        try check("--review-below", reviewBelow, in: .closed(0, 1))
    }

    func run() throws {
        let backend = try device.backend()
        var segmenter = try Segmenter(weights: URL(fileURLWithPath: segWeights), backend: backend)
        segmenter.largestComponent = !allComponents
        let (classifier, size) = try loadClassifier(clsWeights, backend: backend)
        // Slices are cut as the classifier's training slices were (window, margin: recorded in its weights).
        let slicing = try ClassifierWeights.slicing(URL(fileURLWithPath: clsWeights))
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw ValidationError("\(input): no such file or folder") }
        let cts = isDir.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: input).filter { NIfTI.stem($0) != nil }.sorted().map { URL(fileURLWithPath: input).appendingPathComponent($0) }
            : [URL(fileURLWithPath: input)]
        for ct in cts {
            let name = NIfTI.stem(ct.lastPathComponent) ?? ct.lastPathComponent
            let dir = URL(fileURLWithPath: out).appendingPathComponent(name)
            let report = try CaseReport.run(ct: ct, segmenter: segmenter, classifier: classifier, size: size, backend: backend,
                                            slicing: slicing, reviewBelow: reviewBelow, into: dir)
            print("\(name): \(report.summary) → \(dir.path)")
        }
    }
}
