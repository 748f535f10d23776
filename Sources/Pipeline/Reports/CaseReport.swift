import AtomicFile
import Classification
import Foundation
import Kernels
import Models
import Train
import Volumes

/// What `run` reports for one CT: liver volume, tumour components and their volumes, the largest tumour's longest
/// axial diameter, its type with the class probabilities (the mean over its 15 slices), a review flag when the top
/// probability is low, the key slice with the masks drawn in, and the Grad-CAM of the centre slice.
public struct CaseReport {
    public var liverML: Double, tumourML: [Double]
    public var diameterMM: Double?
    public var probabilities: [Double]?
    public var reviewBelow: Double
    public var keySlice: (rgb: [UInt8], width: Int, height: Int, index: Int)?
    /// The centre slice's Grad-CAM for the predicted class, blended on the classifier's input (size × size RGB).
    public var gradCAM: (rgb: [UInt8], size: Int)?

    public var predicted: Int? { probabilities.map { p in p.indices.max { p[$0] < p[$1] }! } }
    public var needsReview: Bool { probabilities.map { ($0.max() ?? 0) < reviewBelow } ?? false }

    /// The files `write` puts in a case's folder.
    public static let files = ["mask.nii.gz", "report.json", "report.md", "key_slice.png", "gradcam.png"]

    public var summary: String {
        guard let k = predicted, let p = probabilities else {
            return String(format: "liver %.1f mL, no tumour found", liverML)
        }
        return String(format: "liver %.1f mL, %d tumour(s), largest %.1f mm, %@ (p = %.2f)%@", liverML, tumourML.count, diameterMM ?? 0,
                      tumourClassNames[k], p[k], needsReview ? ", flagged for review" : "")
    }

    /// `slicing`: how the classifier's training slices were cut (`ClassifierWeights.slicing`).
    public init(ct: URL, mask: Volume, classifier: InceptionV3, size: Int, backend: Backend, slicing: SliceSettings, reviewBelow: Double) throws {
        self.reviewBelow = reviewBelow
        let voxelML = mask.spacing.reduce(1, *) / 1000
        let image = try Preprocessing.orient(try NIfTI.read(ct).volume), labels = try Preprocessing.orient(mask)
        liverML = Double(labels.values.filter { $0 >= 1 }.count) * voxelML
        let s = labels.shape
        let (ids, sizes) = ConnectedComponents.label(labels.values.map { Int($0.rounded()) == 2 }, shape: s)
        tumourML = sizes.map { Double($0) * voxelML }.sorted(by: >)
        guard let slices = try TumourSlices.extract(ct: image, label: labels, window: slicing.window, marginMM: slicing.marginMM) else { return }
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
        probabilities = try ClassifierWeights.predict(classifier, backend: backend, images: images, size: size)
        let centre = images[images.count / 2]
        let cam = try GradCAM.map(model: classifier, backend: backend, image: centre, size: size, target: predicted)
        gradCAM = (GradCAM.overlay(image: centre, heat: cam.heat), size)
        // The key slice: CT window [-175, 250] HU, liver in green, tumour in red.
        var rgb = [UInt8](repeating: 0, count: s[0] * s[1] * 3)
        for x in 0..<s[0] { for y in 0..<s[1] {
            let i = (x * s[1] + y) * s[2] + z, g = UInt8(min(max((image.values[i] + 175) / 425, 0), 1) * 255)
            let o = 3 * (x * s[1] + y), l = Int(labels.values[i].rounded())
            rgb[o] = l == 2 ? 255 : g; rgb[o + 1] = l == 1 ? UInt8(min(Int(g) / 2 + 128, 255)) : (l == 2 ? g / 2 : g); rgb[o + 2] = l == 2 ? g / 2 : g
        } }
        keySlice = (rgb, s[1], s[0], z)
    }

    public func write(to dir: URL, name: String) throws {
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
            json["gradcam"] = gradCAM == nil ? nil : "gradcam.png"
            md += [String(format: "- Largest tumour: longest axial diameter %.1f mm", diameterMM ?? 0),
                   "- Tumour type: **\(tumourClassNames[k])** (" + zip(tumourClassNames, p).map { String(format: "%@ %.2f", $0, $1) }.joined(separator: ", ") + ")",
                   needsReview ? String(format: "- **Flagged for review**: top probability below %.2f", reviewBelow) : "- Not flagged for review",
                   "", "![key slice](key_slice.png)", "",
                   "Grad-CAM of the classifier on the largest tumour's centre slice (red: what drove the predicted type):", "",
                   "![Grad-CAM](gradcam.png)"]
            if let k = keySlice { try PNGFile.writeRGB(k.rgb, width: k.width, height: k.height, to: dir.appendingPathComponent("key_slice.png")) }
            if let g = gradCAM { try PNGFile.writeRGB(g.rgb, width: g.size, height: g.size, to: dir.appendingPathComponent("gradcam.png")) }
        } else {
            json["tumour_type"] = NSNull()
            json["finding"] = "no tumour found in the segmentation; no classification"
            md.append("- No tumour found in the segmentation: no type classification.")
        }
        md += ["", "Mask: `mask.nii.gz` (0 background, 1 liver, 2 tumour) on the CT's grid. Research software: not for clinical use."]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).writeAtomically(to: dir.appendingPathComponent("report.json"))
        try (md.joined(separator: "\n") + "\n").writeAtomically(to: dir.appendingPathComponent("report.md"))
    }

    /// Segments `ct`, reports on it and writes mask.nii.gz, report.json, report.md, key_slice.png and gradcam.png into `dir`.
    public static func run(ct: URL, segmenter: Segmenter, classifier: InceptionV3, size: Int, backend: Backend, slicing: SliceSettings,
                           reviewBelow: Double = 0.6, into dir: URL) throws -> CaseReport {
        try run(ct: ct, segmentation: try segmenter.segment(ct), classifier: classifier, size: size, backend: backend, slicing: slicing,
                reviewBelow: reviewBelow, into: dir)
    }

    /// The same for a CT already segmented.
    public static func run(ct: URL, segmentation s: ScanSegmentation, classifier: InceptionV3, size: Int, backend: Backend,
                           slicing: SliceSettings, reviewBelow: Double = 0.6, into dir: URL) throws -> CaseReport {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try NIfTI.write(s.mask, to: dir.appendingPathComponent("mask.nii.gz"), as: .uint8, like: s.header)
        let report = try CaseReport(ct: ct, mask: s.mask, classifier: classifier, size: size, backend: backend, slicing: slicing,
                                    reviewBelow: reviewBelow)
        try report.write(to: dir, name: NIfTI.stem(ct.lastPathComponent) ?? ct.lastPathComponent)
        return report
    }
}
