import ArgumentParser
import Foundation
import Kernels
import Models
import SafeTensors
import Train
import TrainingLoop
import Volumes

/// `swinliver segment`: CT in, label mask out on the CT's own grid.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment liver and tumours: preprocess, sliding-window inference, map back, write the mask NIfTI.")
    @Argument(help: "A CT (.nii / .nii.gz) or a folder of them.") var input: String
    @Option(help: "Swin UNETR weights (best.safetensors from `train`, or `export`).") var weights: String
    @Option(help: "Output mask file, or a folder when the input is a folder.") var out: String
    @Option(help: "Also write class probabilities: P.nii.gz becomes P_liver.nii.gz and P_tumor.nii.gz.")
    var probabilities: String?
    @Option(help: "Resampling spacing (default: the one the weights were trained with).") var spacing: String?
    @Option(help: "Sliding-window size (default: the training ROI).") var roi: String?
    @Option(help: "Sliding-window overlap.") var overlap = 0.5
    @Flag(name: .customLong("all-components"),
          help: "Keep every liver/tumour component (default: only the largest liver ∪ tumour component, MONAI's KeepLargestConnectedComponent).")
    var allComponents = false
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        if let spacing { _ = try spacingTriple(spacing, "--spacing") }
        if let roi { _ = try roiTriple(roi, "--roi") }
        try check("--overlap", overlap, in: .upTo(0, 1))
    }

    func run() throws {
        let backend = try device.backend()
        let url = URL(fileURLWithPath: weights)
        let recorded = try InferenceSettings.read(url)
        let model = try SwinUNETRFile.load(url, backend: backend)
        let sp = try spacing.map { try spacingTriple($0, "--spacing") } ?? recorded.spacing
        let window = try roi.map { try roiTriple($0, "--roi") } ?? recorded.roi
        let segmenter = VolumeSegmenter(model: model, backend: backend, window: SlidingWindowOptions(roi: window, overlap: overlap))
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
            throw ValidationError("\(input): no such file or folder")
        }
        let jobs: [(URL, URL)]
        if isDir.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: input).filter { NIfTI.stem($0) != nil }.sorted()
            guard !names.isEmpty else { throw ValidationError("\(input): no NIfTI files") }
            jobs = names.map { (URL(fileURLWithPath: input).appendingPathComponent($0), URL(fileURLWithPath: out).appendingPathComponent($0)) }
        } else {
            jobs = [(URL(fileURLWithPath: input), URL(fileURLWithPath: out))]
        }
        for (ct, dest) in jobs {
            let start = Date()
            let s = try ScanSegmentation.run(ct, segmenter: segmenter, preprocessing: Preprocessing(spacing: sp), largestComponent: !allComponents)
            try NIfTI.write(s.mask, to: dest, as: .uint8, like: s.header)
            if let probabilities {
                let base = isDir.boolValue ? dest.path : probabilities
                for (k, name) in [(1, "liver"), (2, "tumor")] where k < s.probabilities.count {
                    try NIfTI.write(s.probabilities[k], to: URL(fileURLWithPath: probabilityPath(base, name)), as: .float32, like: s.header)
                }
            }
            print(String(format: "%@ → %@: liver %.1f mL, tumor %.1f mL (%.1f s)", ct.lastPathComponent, dest.path,
                         s.volumeML(1), s.volumeML(2), Date().timeIntervalSince(start)))
        }
    }
}

/// "P.nii.gz" + "liver" → "P_liver.nii.gz".
func probabilityPath(_ base: String, _ name: String) -> String {
    for ext in [".nii.gz", ".nii"] where base.hasSuffix(ext) { return String(base.dropLast(ext.count)) + "_\(name)" + ext }
    return base + "_\(name).nii.gz"
}

/// `swinliver export`: inference weights (MONAI keys, config in the metadata) from a training checkpoint.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write inference weights (MONAI SwinUNETR keys + config) from a `train` checkpoint.")
    @Argument(help: "checkpoint.safetensors of a `train` run, or a weights file to re-write.") var checkpoint: String
    @Option(help: "Output .safetensors.") var out: String

    func run() throws {
        let model = try WeightsExport.export(URL(fileURLWithPath: checkpoint), to: URL(fileURLWithPath: out), backend: CPUBackend())
        print("wrote \(out): \(model.namedParameters().count) tensors, \(model.parameterCount) parameters, MONAI SwinUNETR keys")
    }
}
