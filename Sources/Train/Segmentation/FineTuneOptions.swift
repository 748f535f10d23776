import Foundation
import Volumes
import TrainingLoop

/// Everything that defines a fine-tuning run; stored in its checkpoints (a resume with other options is
/// refused) and in `options.json`. Defaults follow MONAI's Swin UNETR BTCV recipe and the paper.
public struct FineTuneOptions: RunOptions, Equatable, Sendable {
    public var featureSize = 48
    public var roi = [96, 96, 96]
    /// Patches per step; RandCropByPosNegLabel draws `samplesPerVolume` patches from each case.
    public var batchSize = 2
    public var samplesPerVolume = 2
    public var positive = 1.0, negative = 1.0
    /// RandCropByLabelClasses ratios (background, liver, tumour) instead of pos/neg sampling when set.
    public var classRatios: [Double]?
    /// Dice over the whole batch per class (MONAI `DiceCELoss(batch=True)`, nnU-Net's default) instead of
    /// per sub-volume; nil (as in runs from before this option) means per sub-volume, MONAI's default.
    public var batchDice: Bool?
    public var epochs = 100
    public var lr = 1e-4
    public var weightDecay = 1e-5
    /// Linear warm-up as a fraction of all steps.
    public var warmupFraction = 0.05
    public var validateEvery = 10
    public var checkpointEvery = 50
    public var overlap = 0.5
    public var seed: UInt64 = 0
    public var trainFraction = 0.7
    public var spacing = [1.5, 1.5, 2.0]
    public var flipProbability = 0.1
    public var rotate90Probability = 0.1
    public var zoomProbability = 0.0
    public var intensityProbability = 0.1
    /// Pretrained encoder (swinViT.* keys), or nil for the supervised baseline.
    public var initEncoder: String?
    public var maxSteps: Int?

    public init() {}

    public var preprocessing: Preprocessing { Preprocessing(spacing: spacing) }

    /// What `segment` needs besides the weights (written into them): spacing, training ROI, overlap, classes.
    public var inferenceSettings: InferenceSettings { InferenceSettings(spacing: spacing, roi: roi, overlap: overlap) }

    public var augmentation: Augmentation {
        var a = Augmentation()
        a.flipProbability = flipProbability
        a.rotate90Probability = rotate90Probability
        a.zoomProbability = zoomProbability
        a.scaleProbability = intensityProbability
        a.shiftProbability = intensityProbability
        return a
    }
}
