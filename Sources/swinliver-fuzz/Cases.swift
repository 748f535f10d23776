import Foundation

/// One fuzz case: the files to write into its folder, the `swinliver` arguments and what was mutated.
/// In `arguments`, "@/NAME" is NAME in the case's folder and "%/NAME" a file of the shared real seeds
/// (made once per run by `swinliver` itself, see RealSeeds).
struct CaseSpec {
    var id: CaseID
    var family: String
    var files: [(String, [UInt8])] = []
    var arguments: [String] = []
    var mutation: String = ""
    /// Shared seed files the command reads (checked unchanged afterwards).
    var sharedInputs: [String] = []
}

/// The table of case families: which reader or entry point a case drives, and how often.
/// Each family builds a case from the case's generator; `cost` is only documentation of the rough
/// seconds per case in a debug build, which the weights keep low on average.
enum Cases {
    struct Family {
        var name: String
        var weight: Int
        var build: (inout Mutator, inout CaseSpec, RealSeeds) -> Void
    }

    static let families: [Family] = [
        Family(name: "nifti-metrics", weight: 24, build: niftiMetrics),
        Family(name: "nifti-preprocess", weight: 10, build: niftiPreprocess),
        Family(name: "nifti-slices", weight: 8, build: niftiSlices),
        Family(name: "nifti-segment", weight: 2, build: niftiSegment),
        Family(name: "nifti-evaluate", weight: 5, build: niftiEvaluate),
        Family(name: "manifest-evaluate", weight: 4, build: manifestEvaluate),
        Family(name: "csv-classification", weight: 8, build: csvClassification),
        Family(name: "png-classify", weight: 10, build: pngClassify),
        Family(name: "manifest-slices", weight: 4, build: manifestSlices),
        Family(name: "dataset-slices", weight: 5, build: datasetSlices),
        Family(name: "dataset-train", weight: 1, build: datasetTrain),
        Family(name: "safetensors-export", weight: 8, build: safetensorsExport),
        Family(name: "safetensors-segment", weight: 1, build: safetensorsSegment),
        Family(name: "safetensors-forward", weight: 2, build: safetensorsForward),
        Family(name: "options", weight: 12, build: Options.build),
    ]

    /// Builds case `id` (deterministic).
    static func make(_ id: CaseID, seeds: RealSeeds) -> CaseSpec {
        var m = Mutator(rng: id.rng)
        let total = families.reduce(0) { $0 + $1.weight }
        var r = m.rng.below(total), family = families[0]
        for f in families { if r < f.weight { family = f; break }; r -= f.weight }
        var spec = CaseSpec(id: id, family: family.name)
        family.build(&m, &spec, seeds)
        spec.mutation = m.log.joined(separator: "; ")
        return spec
    }

    // MARK: NIfTI

    /// A mutated NIfTI file of `volume`: NIfTI-1 or -2, field overwrites / huge dims / byte mutations,
    /// .nii or .nii.gz (stored deflate; sometimes the gzip bytes themselves are mutated). Returns the file name.
    static func mutatedNIfTI(_ m: inout Mutator, _ volume: VolumeSeed, base: String, into spec: inout CaseSpec) -> String {
        let version = m.rng.chance(0.5) ? 1 : 2
        var b = version == 1 ? Seeds.nifti1(volume) : Seeds.nifti2(volume)
        let layout = version == 1 ? NIfTILayout.v1 : NIfTILayout.v2, hot = version == 1 ? 352 : 544
        m.note("nifti\(version) \(volume.type) \(volume.shape.map(String.init).joined(separator: "×"))")
        switch m.rng.below(10) {
        case 0...4: for _ in 0..<(1 + m.rng.below(2)) { m.overwriteField(&b, layout: layout, tag: "nifti\(version)") }
        case 5: m.hugeDims(&b, version: version)
        case 6: m.overwriteField(&b, layout: layout, tag: "nifti\(version)"); m.bytes(&b, hot: hot)
        default: m.bytes(&b, hot: hot)
        }
        let gz = m.rng.chance(0.5)
        var name = base + (gz ? ".nii.gz" : ".nii")
        if gz {
            b = Container.gzip(b)
            if m.rng.chance(0.15) { m.note("gzip bytes:"); m.bytes(&b) }
        }
        if m.rng.chance(0.03) { name = base + (gz ? ".nii" : ".nii.gz"); m.note("named \(name)") }
        spec.files.append((name, b))
        return name
    }

    /// A valid NIfTI-1 .nii.gz of `volume`.
    static func validNIfTI(_ volume: VolumeSeed, name: String, into spec: inout CaseSpec) {
        spec.files.append((name, Container.gzip(Seeds.nifti1(volume))))
    }

    /// The seed CT or mask, sometimes in another voxel type or at another small shape.
    static func seedVolume(_ m: inout Mutator, mask: Bool) -> VolumeSeed {
        let shape = m.rng.chance(0.8) ? Seeds.shape : m.pick([[8, 7, 5], [1, 1, 1], [2, 3, 1], [16, 4, 9]])
        let types: [VoxelType] = mask ? [.uint8, .uint8, .int16, .float32, .int8, .uint16, .float64] : [.int16, .int16, .float32, .int32, .float64, .uint8]
        let t = m.pick(types)
        return mask ? Seeds.mask(shape: shape, type: t) : Seeds.ct(shape: shape, type: t)
    }

    static func niftiMetrics(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        let predSide = m.rng.chance(0.5)
        let mutated = mutatedNIfTI(&m, seedVolume(&m, mask: true), base: predSide ? "pred" : "gt", into: &spec)
        validNIfTI(Seeds.mask(), name: "valid.nii.gz", into: &spec)
        spec.arguments = ["metrics", "--gt", predSide ? "@/valid.nii.gz" : "@/\(mutated)", "--pred", predSide ? "@/\(mutated)" : "@/valid.nii.gz"]
    }

    static func niftiPreprocess(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        let labelSide = m.rng.chance(0.3)
        let mutated = mutatedNIfTI(&m, seedVolume(&m, mask: labelSide), base: labelSide ? "label" : "ct", into: &spec)
        if labelSide {
            validNIfTI(Seeds.ct(), name: "ct.nii.gz", into: &spec)
            spec.arguments = ["preprocess", "@/ct.nii.gz", "--label", "@/\(mutated)", "--label-out", "@/label_out.nii.gz"]
        } else {
            spec.arguments = ["preprocess", "@/\(mutated)"]
        }
        spec.arguments += ["--out", "@/out.nii.gz", "--spacing", m.pick(["4", "4", "2.5,3,4", "8"])]
        if m.rng.chance(0.2) { spec.arguments.append("--no-crop") }
    }

    static func niftiSlices(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        let maskSide = m.rng.chance(0.5)
        let mutated = mutatedNIfTI(&m, seedVolume(&m, mask: maskSide), base: maskSide ? "mask" : "ct", into: &spec)
        validNIfTI(maskSide ? Seeds.ct() : Seeds.mask(), name: maskSide ? "ct.nii.gz" : "mask.nii.gz", into: &spec)
        spec.arguments = ["slices", "--ct", maskSide ? "@/ct.nii.gz" : "@/\(mutated)", "--mask", maskSide ? "@/\(mutated)" : "@/mask.nii.gz",
                          "--out", "@/slices", "--window", m.pick(["auto", "none"]), "--type", "HCC"]
    }

    static func niftiSegment(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        let mutated = mutatedNIfTI(&m, seedVolume(&m, mask: false), base: "ct", into: &spec)
        spec.arguments = ["segment", "@/\(mutated)", "--weights", "%/weights.safetensors", "--out", "@/mask.nii.gz", "--device", "cpu"]
        spec.sharedInputs = ["weights.safetensors"]
    }

    /// The two-case pred / gt folders `evaluate` compares.
    static func evaluateFolders(_ spec: inout CaseSpec, except skip: String? = nil) {
        for dir in ["pred", "gt"] {
            for (name, file) in [("case_000.nii.gz", Container.gzip(Seeds.nifti1(Seeds.mask()))), ("case_001.nii", Seeds.nifti1(Seeds.mask(shape: [8, 7, 5])))]
            where "\(dir)/\(name)" != skip { spec.files.append(("\(dir)/\(name)", file)) }
        }
    }

    static func niftiEvaluate(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        let dir = m.pick(["pred", "gt"]), name = m.pick(["case_000", "case_001"])
        evaluateFolders(&spec, except: nil)
        spec.files.removeAll { $0.0.hasPrefix("\(dir)/\(name)") }
        _ = mutatedNIfTI(&m, name == "case_000" ? seedVolume(&m, mask: true) : Seeds.mask(shape: [8, 7, 5]), base: "\(dir)/\(name)", into: &spec)
        spec.files.append(("manifest.csv", Array(Seeds.evaluateManifest.utf8)))
        spec.arguments = ["evaluate", "--pred", "@/pred", "--gt", "@/gt", "--out", "@/eval", "--bootstrap", "50", "--manifest", "@/manifest.csv"]
    }

    static func manifestEvaluate(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        evaluateFolders(&spec)
        m.note("evaluate manifest:")
        spec.files.append(("manifest.csv", m.text(Seeds.evaluateManifest)))
        spec.arguments = ["evaluate", "--pred", "@/pred", "--gt", "@/gt", "--out", "@/eval", "--bootstrap", "50", "--manifest", "@/manifest.csv"]
    }

    // MARK: CSV / PNG / datasets

    static func csvClassification(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        m.note("classification csv:")
        spec.files.append(("p.csv", m.text(Seeds.classificationCSV)))
        spec.arguments = ["metrics", "--classification", "@/p.csv", "--bootstrap", "50"]
        if m.rng.chance(0.5) { spec.arguments += ["--plots", "@/plots"] }
    }

    /// A slices folder (manifest + a.png, b.png; one PNG mutated when `mutatePNG`).
    static func slicesFolder(_ m: inout Mutator, _ spec: inout CaseSpec, mutatePNG: Bool, manifest: [UInt8]) {
        let depth = m.rng.chance(0.7) ? 16 : 8
        let chunks = Seeds.pngChunks(width: 12, height: 12, bitDepth: depth)
        let bad = m.pick(["a.png", "b.png"])
        if mutatePNG { m.note("png \(depth)-bit 12×12 \(bad):") }
        for name in ["a.png", "b.png"] {
            spec.files.append(("slices/\(name)", mutatePNG && name == bad ? m.png(chunks) : Seeds.png(chunks)))
        }
        spec.files.append(("slices/manifest.csv", manifest))
    }

    /// `classify cv` with one patient and two folds reads (and resizes) every slice, then refuses.
    static func classifyArguments(_ m: inout Mutator) -> [String] {
        var a = ["classify", "cv", "--slices", "@/slices", "--out", "@/cv", "--folds", "2", "--epochs", "1", "--batch", "1",
                 "--max-steps", "1", "--replicates", "20", "--device", "cpu"]
        if m.rng.chance(0.8) { a += ["--size", "75"] }
        return a
    }

    static func pngClassify(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        slicesFolder(&m, &spec, mutatePNG: true, manifest: Array(Seeds.slicesManifest.utf8))
        spec.arguments = classifyArguments(&m)
    }

    static func manifestSlices(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        m.note("slices manifest:")
        let manifest = m.text(Seeds.slicesManifest)
        slicesFolder(&m, &spec, mutatePNG: false, manifest: manifest)
        spec.arguments = classifyArguments(&m)
    }

    /// A two-case dataset folder; its manifest.csv or dataset.json, or one of its volumes, mutated.
    static func datasetFolder(_ m: inout Mutator, _ spec: inout CaseSpec) {
        let decathlon = m.rng.chance(0.3)
        let target = m.rng.below(3)
        let vols: [(String, VolumeSeed)] = [("imagesTr/case_000", Seeds.ct()), ("labelsTr/case_000", Seeds.mask()),
                                            ("imagesTr/case_001", Seeds.ct(shape: [8, 7, 5])), ("labelsTr/case_001", Seeds.mask(shape: [8, 7, 5]))]
        let bad = m.rng.below(vols.count)
        for (n, (name, v)) in vols.enumerated() {
            let ext = n < 2 ? ".nii.gz" : ".nii"
            if target == 2 && n == bad {
                var b = Seeds.nifti1(v)
                m.note("dataset \(name)\(ext):"); m.bytes(&b, hot: 352)
                if ext == ".nii.gz" { b = Container.gzip(b) }
                spec.files.append(("data/" + name + ext, b))
            } else {
                spec.files.append(("data/" + name + ext, n < 2 ? Container.gzip(Seeds.nifti1(v)) : Seeds.nifti1(v)))
            }
        }
        if decathlon {
            if target < 2 { m.note("dataset.json:") }
            spec.files.append(("data/dataset.json", target < 2 ? m.text(Seeds.decathlonJSON) : Array(Seeds.decathlonJSON.utf8)))
        } else {
            if target < 2 { m.note("dataset manifest.csv:") }
            spec.files.append(("data/manifest.csv", target < 2 ? m.text(Seeds.datasetManifest) : Array(Seeds.datasetManifest.utf8)))
        }
    }

    static func datasetSlices(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        datasetFolder(&m, &spec)
        spec.arguments = ["slices", "--data", "@/data", "--out", "@/slices"]
    }

    static let trainBase = ["--feature-size", "12", "--roi", "64,32,32", "--spacing", "8", "--epochs", "1", "--batch", "1", "--samples", "1",
                            "--max-steps", "1", "--device", "cpu", "--quiet"]

    static func datasetTrain(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        datasetFolder(&m, &spec)
        spec.arguments = ["train", "--data", "@/data", "--out", "@/run", "--validate-every", "0"] + trainBase
    }

    // MARK: safetensors

    static func safetensorsExport(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        let real = m.rng.chance(0.3)
        m.note(real ? "weights.safetensors:" : "small safetensors:")
        spec.files.append(("w.safetensors", m.safetensors(real ? seeds.weights : Seeds.smallTensors())))
        spec.arguments = ["export", "@/w.safetensors", "--out", "@/out.safetensors"]
    }

    static func safetensorsSegment(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        m.note("weights.safetensors:")
        spec.files.append(("w.safetensors", m.safetensors(seeds.weights)))
        validNIfTI(Seeds.ct(), name: "ct.nii.gz", into: &spec)
        spec.arguments = ["segment", "@/ct.nii.gz", "--weights", "@/w.safetensors", "--out", "@/mask.nii.gz", "--device", "cpu"]
    }

    static func safetensorsForward(_ m: inout Mutator, _ spec: inout CaseSpec, _ seeds: RealSeeds) {
        m.note("forward input x:")
        spec.files.append(("x.safetensors", m.safetensors(Seeds.forwardInput())))
        spec.arguments = ["debug", "forward", "--weights", "%/weights.safetensors", "--input", "@/x.safetensors", "--output", "@/y.safetensors",
                          "--device", "cpu"]
        spec.sharedInputs = ["weights.safetensors"]
    }
}
