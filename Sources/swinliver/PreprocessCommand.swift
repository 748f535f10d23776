import ArgumentParser
import Foundation
import Volumes

/// `swinliver preprocess`: the MONAI chain on one CT (and label), written as NIfTI with MONAI's final affine.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Orientation RAS, resampling, HU window [-175, 250] → [0, 1], foreground crop; writes NIfTI.")

    @Argument(help: "Input CT (.nii / .nii.gz).") var input: String
    @Option(help: "Output image.") var out: String
    @Option(help: "Label mask on the CT's grid.") var label: String?
    @Option(name: .customLong("label-out"), help: "Output label (with --label).") var labelOut: String?
    @Option(help: "Target spacing in mm, N or D,H,W, e.g. 1.5,1.5,2.0.") var spacing: String = "1.5,1.5,2.0"
    @Option(help: "HU window low,high.") var window: String = "-175,250"
    @Flag(name: .customLong("no-crop"), help: "Skip the foreground crop.") var noCrop = false

    func validate() throws {
        if (label == nil) != (labelOut == nil) { throw ValidationError("--label and --label-out go together") }
        _ = try spacingTriple(spacing, "--spacing")
        _ = try huWindow()
    }

    /// `--window low,high`: two finite HU values, low < high.
    func huWindow() throws -> [Float] {
        let w = try numberList(window, "--window")
        guard w.count == 2, w[0] < w[1], w.allSatisfy(Limits.huWindow.contains) else {
            throw ValidationError("--window \(window): needs low,high with low < high, each between \(number(Limits.huWindow.lowerBound)) and \(number(Limits.huWindow.upperBound)) HU")
        }
        return w.map { Float($0) }
    }

    func run() throws {
        let sp = try spacingTriple(spacing, "--spacing")
        let w = try huWindow()
        let (image, header) = try NIfTI.read(URL(fileURLWithPath: input))
        let lab = try label.map { path -> Volume in
            let v = try NIfTI.read(URL(fileURLWithPath: path)).volume
            try NIfTI.checkPair(image: image, imageFile: input, label: v, labelFile: path)
            try NIfTI.checkLabels(v, file: path)
            return v
        }
        let chain = Preprocessing(spacing: sp, window: (w[0], w[1]), cropForeground: !noCrop)
        let r = try chain(image: image, label: lab)
        try NIfTI.write(r.image, to: URL(fileURLWithPath: out), as: .float32, like: header)
        if let l = r.label, let labelOut { try NIfTI.write(l, to: URL(fileURLWithPath: labelOut), as: .uint8, like: header) }
        print("\(input) \(image.shape) → \(out) \(r.image.shape), spacing \(r.image.spacing.map { String(format: "%.3g", $0) }), axes \(r.image.affine.axisCodes.joined())")
    }
}
