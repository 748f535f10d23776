import AtomicFile
import ArgumentParser
import Classification
import Foundation
import Kernels
import Models
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
    @Option(help: "Slice window: auto or none.") var window = "auto"
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        guard SliceWindow(rawValue: window) != nil else { throw ValidationError("--window \(window): must be auto or none") }
        try check("--review-below", reviewBelow, in: .closed(0, 1))
    }

    func run() throws {
        let sliceWindow = SliceWindow(rawValue: window)!
        let backend = try device.backend()
        let segFile = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: segWeights))
        let recorded = try weightsSettings(segFile.metadata, file: segWeights)
        let seg = try SwinUNETRFile.load(URL(fileURLWithPath: segWeights), backend: backend)
        let spacing = recorded.spacing ?? [1.5, 1.5, 2.0]
        let roi = recorded.roi ?? [96, 96, 96]
        let segmenter = VolumeSegmenter(model: seg, backend: backend, window: SlidingWindowOptions(roi: roi, overlap: 0.5))
        let (classifier, size) = try loadClassifier(clsWeights, backend: backend)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw ValidationError("\(input): no such file or folder") }
        let cts = isDir.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: input).filter { NIfTI.stem($0) != nil }.sorted().map { URL(fileURLWithPath: input).appendingPathComponent($0) }
            : [URL(fileURLWithPath: input)]
        for ct in cts {
            let name = NIfTI.stem(ct.lastPathComponent) ?? ct.lastPathComponent
            let dir = URL(fileURLWithPath: out).appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let s = try ScanSegmentation.run(ct, segmenter: segmenter, preprocessing: Preprocessing(spacing: spacing))
            try NIfTI.write(s.mask, to: dir.appendingPathComponent("mask.nii.gz"), as: .uint8, like: s.header)
            let report = try CaseReport(ct: ct, mask: s.mask, classifier: classifier, size: size, backend: backend, window: sliceWindow,
                                        reviewBelow: reviewBelow)
            try report.write(to: dir, name: name)
            print("\(name): \(report.summary) → \(dir.path)")
        }
    }
}

/// What `run` reports for one CT.
struct CaseReport {
    var liverML: Double, tumourML: [Double]
    var diameterMM: Double?
    var probabilities: [Double]?
    var reviewBelow: Double
    var keySlice: (rgb: [UInt8], width: Int, height: Int, index: Int)?

    var predicted: Int? { probabilities.map { p in p.indices.max { p[$0] < p[$1] }! } }
    var needsReview: Bool { probabilities.map { ($0.max() ?? 0) < reviewBelow } ?? false }

    var summary: String {
        guard let k = predicted, let p = probabilities else {
            return String(format: "liver %.1f mL, no tumour found", liverML)
        }
        return String(format: "liver %.1f mL, %d tumour(s), largest %.1f mm, %@ (p = %.2f)%@", liverML, tumourML.count, diameterMM ?? 0,
                      tumourClassNames[k], p[k], needsReview ? ", flagged for review" : "")
    }

    init(ct: URL, mask: Volume, classifier: InceptionV3, size: Int, backend: Backend, window: SliceWindow, reviewBelow: Double) throws {
        self.reviewBelow = reviewBelow
        let voxelML = mask.spacing.reduce(1, *) / 1000
        let image = try Preprocessing.orient(try NIfTI.read(ct).volume), labels = try Preprocessing.orient(mask)
        liverML = Double(labels.values.filter { $0 >= 1 }.count) * voxelML
        let s = labels.shape
        let (ids, sizes) = TumourSlices.connectedComponents(labels.values.map { Int($0.rounded()) == 2 }, shape: s)
        tumourML = sizes.map { Double($0) * voxelML }.sorted(by: >)
        guard let slices = try TumourSlices.extract(ct: image, label: labels, window: window) else { return }
        // Longest axial diameter of the largest tumour: the farthest pair of its voxel centres in its largest slice.
        let id = Int32(slices.largest + 1), z = slices.centreSlice, sp = labels.spacing
        var points: [(Double, Double)] = []
        for x in 0..<s[0] { for y in 0..<s[1] where ids[(x * s[1] + y) * s[2] + z] == id { points.append((Double(x) * sp[0], Double(y) * sp[1])) } }
        var best = 0.0
        for i in points.indices { for j in (i + 1)..<points.count {
            best = max(best, ((points[i].0 - points[j].0) * (points[i].0 - points[j].0) + (points[i].1 - points[j].1) * (points[i].1 - points[j].1)).squareRoot())
        } }
        diameterMM = best
        let n = slices.size * slices.size
        let images = (0..<slices.count).map { i -> [Float] in
            let im = Array(slices.images[i * n..<(i + 1) * n])
            return size == slices.size ? im : TumourSlices.bilinear(im, h: slices.size, w: slices.size, size: size)
        }
        probabilities = try ClassifierTrainer.predict(classifier, backend: backend, images: images, size: size)
        // The key slice: CT window [-175, 250] HU, liver in green, tumour in red.
        var rgb = [UInt8](repeating: 0, count: s[0] * s[1] * 3)
        for x in 0..<s[0] { for y in 0..<s[1] {
            let i = (x * s[1] + y) * s[2] + z, g = UInt8(min(max((image.values[i] + 175) / 425, 0), 1) * 255)
            let o = 3 * (x * s[1] + y), l = Int(labels.values[i].rounded())
            rgb[o] = l == 2 ? 255 : g; rgb[o + 1] = l == 1 ? UInt8(min(Int(g) / 2 + 128, 255)) : (l == 2 ? g / 2 : g); rgb[o + 2] = l == 2 ? g / 2 : g
        } }
        keySlice = (rgb, s[1], s[0], z)
    }

    func write(to dir: URL, name: String) throws {
        var json: [String: Any] = ["case": name, "liver_volume_ml": liverML, "tumour_count": tumourML.count, "tumour_volumes_ml": tumourML,
                                   "review_threshold": reviewBelow]
        var md = ["# \(name)", "", String(format: "- Liver volume (liver + tumours): %.1f mL", liverML),
                  "- Tumours found: \(tumourML.count)" + (tumourML.isEmpty ? "" : " (" + tumourML.map { String(format: "%.1f mL", $0) }.joined(separator: ", ") + ")")]
        if let k = predicted, let p = probabilities {
            json["largest_tumour_axial_diameter_mm"] = diameterMM
            json["tumour_type"] = tumourClassNames[k]
            json["probabilities"] = Dictionary(uniqueKeysWithValues: zip(tumourClassNames, p))
            json["flag_for_review"] = needsReview
            json["key_slice"] = keySlice?.index
            md += [String(format: "- Largest tumour: longest axial diameter %.1f mm", diameterMM ?? 0),
                   "- Tumour type: **\(tumourClassNames[k])** (" + zip(tumourClassNames, p).map { String(format: "%@ %.2f", $0, $1) }.joined(separator: ", ") + ")",
                   needsReview ? String(format: "- **Flagged for review**: top probability below %.2f", reviewBelow) : "- Not flagged for review",
                   "", "![key slice](key_slice.png)"]
            if let k = keySlice { try PNGFile.writeRGB(k.rgb, width: k.width, height: k.height, to: dir.appendingPathComponent("key_slice.png")) }
        } else {
            json["tumour_type"] = NSNull()
            json["finding"] = "no tumour found in the segmentation; no classification"
            md.append("- No tumour found in the segmentation: no type classification.")
        }
        md += ["", "Mask: `mask.nii.gz` (0 background, 1 liver, 2 tumour) on the CT's grid. Research software: not for clinical use."]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).writeAtomically(to: dir.appendingPathComponent("report.json"))
        try (md.joined(separator: "\n") + "\n").writeAtomically(to: dir.appendingPathComponent("report.md"))
    }
}
