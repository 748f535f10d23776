import Classification
import Foundation
import Kernels
import Metrics
import Models
import Train
import Volumes

/// The demo's segmentation half: pretraining, the two fine-tunes scored on the held-out cases, and the real scans.
struct DemoSegmentation {
    let options: DemoOptions
    /// Every case of the cohort (the split in `options.out` says which train) and the held-out ones.
    let cases: [CaseEntry]
    let heldOut: [CaseEntry]
    /// Label each job's progress lines (jobs side by side).
    let label: Bool

    /// Pretrains the Swin encoder on `volumes` (labels unused); returns encoder.safetensors.
    func pretrain(_ volumes: [CaseEntry], backend: Backend) throws -> URL {
        var p = PretrainOptions()
        p.featureSize = options.featureSize; p.roi = options.roi; p.batchSize = options.pretrainBatch; p.samplesPerVolume = 2
        p.epochs = options.pretrainEpochs
        p.spacing = options.spacing; p.seed = options.seed; p.checkpointEvery = 1000; p.projection = 128
        let pre = try Pretrainer(options: p, cases: volumes, directory: options.out.appendingPathComponent("pretrain"), backend: backend,
                                 quiet: options.quiet, label: label ? "pretrain" : nil)
        try pre.run(resume: false)
        return pre.encoderURL
    }

    /// Fine-tunes one variant (from `encoder`, or from scratch) on the training cases of the split and scores the
    /// held-out cases on their own grids.
    func fineTune(_ name: String, encoder: URL?, backend: Backend) throws -> VariantResult {
        var f = FineTuneOptions()
        f.featureSize = options.featureSize; f.roi = options.roi; f.batchSize = options.batch; f.samplesPerVolume = options.batch
        f.epochs = options.epochs; f.lr = options.lr; f.spacing = options.spacing; f.seed = options.seed; f.checkpointEvery = 1000
        f.initEncoder = encoder?.path
        // The held-out cases are scored below on their own grids, so no validation pass inside the run.
        f.validateEvery = 0
        f.classRatios = options.classRatios
        f.batchDice = options.batchDice ? true : nil
        let dir = options.out.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("split.json"))
        try FileManager.default.copyItem(at: options.out.appendingPathComponent("split.json"), to: dir.appendingPathComponent("split.json"))
        let tuner = try FineTuner(options: f, cases: cases, directory: dir, backend: backend, quiet: options.quiet, label: label ? name : nil)
        try tuner.run(resume: false)
        return try segmentAndScore(name: name, weights: dir.appendingPathComponent("final.safetensors"), cases: heldOut,
                                   predictions: dir.appendingPathComponent("predictions"), backend: backend)
    }

    /// The real scans: the SSL model's liver DSC against their masks (liver = predicted liver ∪ tumour, as the masks
    /// include any lesion) and a `run` report for each. A missing folder is reported, not skipped silently.
    func realScans(weights: URL, classifier: (model: InceptionV3, size: Int, slicing: SliceSettings), backend: Backend, say: (String) -> Void) throws
        -> (json: Any, reports: [URL])
    {
        let pairs = [("abdomen-ce-ct.nii.gz", "abdomen-ce-liver.nii.gz"), ("wholebody-ct.nii.gz", "wholebody-liver.nii.gz")]
        let root = options.real
        guard pairs.allSatisfy({ FileManager.default.fileExists(atPath: root.appendingPathComponent($0.0).path) }) else {
            say("real scans: \(root.path) not found; pass --real DIR to segment them")
            return (["missing": root.path], [])
        }
        var rows: [String: Any] = [:], reports: [URL] = []
        let segmenter = try Segmenter(weights: weights, backend: backend)
        for (ct, liver) in pairs {
            let url = root.appendingPathComponent(ct)
            let s = try segmenter.segment(url)
            let dir = options.out.appendingPathComponent("real").appendingPathComponent(NIfTI.stem(ct) ?? ct)
            let report = try CaseReport.run(ct: url, segmentation: s, classifier: classifier.model, size: classifier.size, backend: backend,
                                            slicing: classifier.slicing, into: dir)
            reports.append(dir)
            let gt = try NIfTI.read(root.appendingPathComponent(liver)).volume
            let m = try SegmentationMetrics.compute(gt: gt.values.map { $0 == 1 }, pred: s.mask.values.map { $0 >= 1 },
                                                    shape: gt.shape, spacing: gt.spacing)
            rows[ct] = ["liver_dice": jsonNumber(m.dice), "liver_hd95": jsonNumber(m.hd95), "liver_ml_predicted": s.volumeML(1) + s.volumeML(2),
                        "tumor_ml_predicted": s.volumeML(2), "report": dir.path]
            say(String(format: "real scan %@: liver DSC %.4f, HD95 %.1f mm (mask by TotalSegmentator); %@", ct, m.dice, m.hd95, report.summary))
        }
        return (rows, reports)
    }
}
