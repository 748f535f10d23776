import Classification
import Foundation
import Volumes

/// Everything `swinliver demo` runs with (its defaults fit a 2-core CPU in about half an hour); written into
/// summary.json as `settings`.
public struct DemoOptions: Sendable {
    public var out = URL(fileURLWithPath: "runs/demo")
    // The segmentation half: a small cohort, a small Swin UNETR at coarse spacing.
    public var cases = 16
    public var inPlane = (160, 130)
    public var featureSize = 12
    public var roi = [64, 32, 32]
    public var spacing = [4.0, 4.0, 4.0]
    /// Pretraining sees the training CTs and the classification cohort's CTs (other patients; labels unused), 4 crops a
    /// step: 4 epochs of 56 volumes are 112 steps, where the flip and contrastive losses leave chance (BENCHMARKS.md).
    public var pretrainEpochs = 4
    public var pretrainBatch = 4
    public var epochs = 36
    public var batch = 2
    public var lr = 3e-3
    public var batchDice = true
    /// RandCropByLabelClasses centres (background : liver : tumour): tumours are a small share of a crop.
    public var classRatios = [1.0, 1, 3]
    /// Real CT scans with liver masks (the project's shared data); a missing folder is reported.
    public var real = URL(fileURLWithPath: "../shared/data/real")
    public var seed: UInt64 = 0
    public var quiet = false
    /// On the CPU backend the two fine-tunes run side by side unless this is set.
    public var sequential = false
    // The classification half: a cohort of its own (other patients than the segmentation cohort's), segmented by the
    // SSL model, its slices from ground-truth and from predicted masks, 5-fold CV at a reduced input size.
    public var classifyCases = 45
    public var classifyInPlane = (256, 208)
    public var classifierSize = 75
    public var classifierEpochs = 10
    public var classifierBatch = 16
    public var classifierLR = 1e-3
    public var classifierDropout: Float = 0.2
    /// How the classifier's slices are cut, from ground-truth and from predicted masks alike.
    public var slicing = SliceSettings()
    public var folds = 5
    public var replicates = 2000

    public init() {}

    /// The classification cohort's seed: another draw of the generator than the segmentation cohort's.
    public var classifySeed: UInt64 { seed &+ 1000 }

    var json: [String: Any] {
        ["feature_size": featureSize, "in_plane": "\(inPlane.0),\(inPlane.1)", "roi": roi, "spacing": spacing, "pretrain_epochs": pretrainEpochs, "pretrain_batch": pretrainBatch,
         "epochs": epochs, "batch": batch, "lr": lr, "cases": cases, "seed": seed, "batch_dice": batchDice, "class_ratios": classRatios,
         "classification": ["cases": classifyCases, "in_plane": "\(classifyInPlane.0),\(classifyInPlane.1)", "cohort_seed": classifySeed,
                            "size": classifierSize, "epochs": classifierEpochs, "batch": classifierBatch, "lr": classifierLR, "dropout": classifierDropout, "slicing": ["window": slicing.window.rawValue, "margin_mm": slicing.marginMM], "folds": folds,
                            "bootstrap_replicates": replicates,
                            "note": "reduced from the paper's 299 px / 80 epochs (and dropout 0.5) to fit a 2-core CPU; `classify` itself keeps 299 px / 80 epochs / 0.5"]]
    }
}
