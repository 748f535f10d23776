import AtomicFile
import ArgumentParser
import Foundation
import Kernels
import Train
import Volumes
import Models
import Metrics
import SafeTensors

/// `swinliver demo` (`make demo`): the whole pipeline on a synthetic cohort — pretrain with all three
/// tasks, fine-tune with and without the pretrained encoder, segment the held-out cases, evaluate, and
/// segment the two real scans when `../shared/data/real` (or `--real`) is there.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Synthetic cohort → pretrain → fine-tune (SSL vs baseline) → segment → evaluate.")
    @Option(help: "Output folder.") var out = "runs/demo"
    @Option(help: "Synthetic cases.") var cases = 16
    @Option(name: .customLong("in-plane"), help: "In-plane grid I,J of the synthetic CTs (the field of view stays 30–38 cm).")
    var inPlane = "160,130"
    @Option(name: .customLong("feature-size")) var featureSize = 12
    @Option(help: "Sub-volume size (D,H,W: left–right, back–front, foot–head after RAS).") var roi = "64,32,32"
    @Option(help: "Resampling spacing in mm.") var spacing = "4.0"
    @Option(name: .customLong("pretrain-epochs")) var pretrainEpochs = 2
    @Option(help: "Fine-tuning epochs per variant.") var epochs = 36
    @Option(help: "Sub-volumes per fine-tuning step.") var batch = 2
    @Option(help: "Peak fine-tuning learning rate.") var lr = 3e-3
    @Flag(name: .customLong("no-batch-dice"), help: "Dice per sub-volume (MONAI's default) instead of over the batch.")
    var noBatchDice = false
    @Option(help: "Folder of real CT scans with liver masks (the project's shared data).") var real = "../shared/data/real"
    @Option var seed: UInt64 = 0
    @Flag var quiet = false
    @Flag(help: "On the CPU backend, fine-tune the two variants one after the other instead of side by side.")
    var sequential = false
    @Option(name: .long, help: "cpu, opencl or opencl:N (default: SWINLIVER_DEVICE, else an OpenCL GPU if there is one, else cpu)")
    var device: String?

    /// RandCropByLabelClasses centres (background : liver : tumour): tumours are a small share of a crop.
    static let classRatios = [1.0, 1, 3]

    func validate() throws {
        try check("--cases", cases, in: Limits.cases)
        _ = try inPlaneGrid(inPlane)
        try checkFeatureSize(featureSize)
        _ = try roiTriple(roi, "--roi")
        _ = try spacingTriple(spacing, "--spacing")
        try check("--pretrain-epochs", pretrainEpochs, in: Limits.epochs)
        try check("--epochs", epochs, in: Limits.epochs)
        try check("--batch", batch, in: Limits.batch)
        try check("--lr", lr, in: .above(0, 10))
    }

    func run() throws {
        let start = Date()
        let spec = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment)
        let backend = try spec.makeBackend()
        print("device: \(backend.deviceName) (\(spec))")
        let out = URL(fileURLWithPath: self.out), data = out.appendingPathComponent("data")
        let sp = try spacingTriple(spacing, "--spacing"), size = try roiTriple(roi, "--roi")
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("manifest.csv").path) {
            try SyntheticCohort.write(cases: cases, to: data, seed: seed, generator: try SynthCommand.generator(inPlane: inPlane))
        }
        print(String(format: "cohort: %d synthetic cases in %@ (%.0f s)", cases, data.path, Date().timeIntervalSince(start)))
        let all = try Dataset.cases(at: data)
        let split = try Split.load(or: out.appendingPathComponent("split.json"), patients: all.map(\.patient), strata: Split.strata(of: all),
                                   seed: seed)
        let train = all.filter { split.trainPatients.contains($0.patient) }
        let heldOut = all.filter { split.validationPatients.contains($0.patient) }

        // On the CPU backend the baseline fine-tunes on its own thread beside pretraining and the SSL fine-tune:
        // one run keeps the two cores only partly busy, two side by side fill them (BENCHMARKS.md). A GPU runs
        // them one after the other.
        // The baseline's backend is made here, so a device error shows at once. Should one side fail, the run
        // stops with its error; checkpoints are written atomically, so neither side leaves a torn file.
        let sideBySide = spec == .cpu && !sequential
        let fineTune = { [self] (name: String, encoder: String?, backend: Backend) throws -> VariantResult in
            try variant(name, encoder: encoder, cases: all, heldOut: heldOut, out: out, spacing: sp, roi: size, backend: backend,
                        label: sideBySide ? name : nil)
        }
        let baselineJob = try (sideBySide ? spec.makeBackend() : nil).map { baselineBackend in
            BackgroundJob { try fineTune("baseline", nil, baselineBackend) }
        }

        var p = PretrainOptions()
        p.featureSize = featureSize; p.roi = size; p.batchSize = 2; p.samplesPerVolume = 2; p.epochs = pretrainEpochs
        p.spacing = sp; p.seed = seed; p.checkpointEvery = 1000; p.projection = 128
        let pre = try Pretrainer(options: p, cases: train, directory: out.appendingPathComponent("pretrain"), backend: backend, quiet: quiet,
                                 label: sideBySide ? "pretrain" : nil)
        try pre.run(resume: false)
        print(String(format: "pretrained (inpaint, flip, contrast): %@ (%.0f s)", pre.encoderURL.path, Date().timeIntervalSince(start)))

        let ssl = try fineTune("ssl", pre.encoderURL.path, backend)
        print(String(format: "ssl fine-tuned and evaluated (%.0f s)", Date().timeIntervalSince(start)))
        let baseline = try baselineJob?.wait() ?? fineTune("baseline", nil, backend)
        print(String(format: "baseline fine-tuned and evaluated (%.0f s)", Date().timeIntervalSince(start)))
        let results = [baseline, ssl]
        var summary: [String: Any] = ["device": backend.deviceName, "held_out_cases": heldOut.count, "train_cases": train.count,
                                      "settings": ["feature_size": featureSize, "in_plane": inPlane, "roi": size, "spacing": sp, "pretrain_epochs": pretrainEpochs,
                                                   "epochs": epochs, "batch": batch, "lr": lr, "cases": cases, "seed": seed,
                                                   "batch_dice": !noBatchDice, "class_ratios": Self.classRatios]]
        for r in results { summary[r.name] = r.json }
        let realScans = try segmentRealScans(weights: out.appendingPathComponent("ssl/final.safetensors"), into: out.appendingPathComponent("real"),
                                             backend: backend)
        summary["real_scans"] = realScans
        summary["seconds"] = Date().timeIntervalSince(start)
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            .writeAtomically(to: out.appendingPathComponent("summary.json"))
        print("\nheld-out synthetic cases (\(heldOut.count)), evaluated on each CT's own grid:")
        print(VariantResult.header)
        for r in results { print(r.row) }
        print(String(format: "\nsummary: %@ (%.0f s in all)", out.appendingPathComponent("summary.json").path, Date().timeIntervalSince(start)))
    }

    /// Fine-tunes one variant (from `encoder`, or from scratch) on the training cases of the split in `out`
    /// (`cases` holds them all) and scores the held-out cases on their own grids.
    func variant(_ name: String, encoder: String?, cases all: [CaseEntry], heldOut: [CaseEntry], out: URL, spacing sp: [Double],
                 roi size: [Int], backend: Backend, label: String?) throws -> VariantResult {
        var f = FineTuneOptions()
        f.featureSize = featureSize; f.roi = size; f.batchSize = batch; f.samplesPerVolume = batch; f.epochs = epochs
        f.lr = lr; f.spacing = sp; f.seed = seed; f.checkpointEvery = 1000; f.initEncoder = encoder
        // The held-out cases are scored below on their own grids, so no validation pass inside the run.
        f.validateEvery = 0
        f.classRatios = Self.classRatios
        f.batchDice = noBatchDice ? nil : true
        let dir = out.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("split.json"))
        try FileManager.default.copyItem(at: out.appendingPathComponent("split.json"), to: dir.appendingPathComponent("split.json"))
        let tuner = try FineTuner(options: f, cases: all, directory: dir, backend: backend, quiet: quiet, label: label)
        try tuner.run(resume: false)
        return try segmentAndScore(name: name, weights: dir.appendingPathComponent("final.safetensors"), cases: heldOut,
                                   predictions: dir.appendingPathComponent("predictions"), backend: backend)
    }

    /// Liver DSC of the SSL model on the real scans (liver = predicted liver ∪ tumour, as the masks include
    /// any lesion); a missing folder is reported, not skipped silently.
    func segmentRealScans(weights: URL, into dir: URL, backend: Backend) throws -> Any {
        let pairs = [("abdomen-ce-ct.nii.gz", "abdomen-ce-liver.nii.gz"), ("wholebody-ct.nii.gz", "wholebody-liver.nii.gz")]
        let root = URL(fileURLWithPath: real)
        guard pairs.allSatisfy({ FileManager.default.fileExists(atPath: root.appendingPathComponent($0.0).path) }) else {
            print("real scans: \(root.path) not found; pass --real DIR to segment them")
            return ["missing": root.path]
        }
        var rows: [String: Any] = [:]
        let model = try Models.SwinUNETRFile.load(weights, backend: backend)
        let recorded = try weightsSettings(try SafeTensorsFile(contentsOf: weights).metadata, file: weights.path)
        let segmenter = VolumeSegmenter(model: model, backend: backend,
                                        window: SlidingWindowOptions(roi: recorded.roi ?? [96, 96, 96], overlap: 0.5))
        for (ct, liver) in pairs {
            let s = try ScanSegmentation.run(root.appendingPathComponent(ct), segmenter: segmenter,
                                             preprocessing: Preprocessing(spacing: recorded.spacing ?? [1.5, 1.5, 2]))
            let dest = dir.appendingPathComponent(ct)
            try NIfTI.write(s.mask, to: dest, as: .uint8, like: s.header)
            let gt = try NIfTI.read(root.appendingPathComponent(liver)).volume
            let m = try Metrics.SegmentationMetrics.compute(gt: gt.values.map { $0 == 1 }, pred: s.mask.values.map { $0 >= 1 },
                                                            shape: gt.shape, spacing: gt.spacing)
            rows[ct] = ["liver_dice": finite(m.dice), "liver_hd95": finite(m.hd95), "liver_ml_predicted": s.volumeML(1) + s.volumeML(2),
                        "tumor_ml_predicted": s.volumeML(2)]
            print(String(format: "real scan %@: liver DSC %.4f, HD95 %.1f mm (mask by TotalSegmentator)", ct, m.dice, m.hd95))
        }
        return rows
    }
}
