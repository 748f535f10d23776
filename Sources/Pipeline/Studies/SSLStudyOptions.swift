import Foundation

/// Everything `swinliver ssl-study` runs with; written into study.json as `settings`. The defaults fit a 2-core CPU
/// in about an hour: many unlabeled volumes, few labeled ones, three seeds.
public struct SSLStudyOptions: Sendable {
    public var out = URL(fileURLWithPath: "runs/ssl-study")
    /// One pretraining and two fine-tunes (SSL-initialised, baseline) per seed.
    public var seeds: [UInt64] = [0, 1, 2]
    /// Synthetic volumes for pretraining (their labels are not used; other patients than the labeled cohort's).
    public var unlabeled = 48
    /// Labeled cases each fine-tune sees, drawn per seed (stratified by tumour type) from `pool`.
    public var labeled = 5
    public var pool = 15
    /// Held-out labeled cases, the same for every seed.
    public var test = 10
    /// Real CT scans pretrained on as well (their CTs only; a missing folder is reported).
    public var real: URL? = URL(fileURLWithPath: "../shared/data/real")
    public var cohortSeed: UInt64 = 0
    public var inPlane = (160, 130)
    public var featureSize = 12
    public var roi = [64, 32, 32]
    public var spacing = [4.0, 4.0, 4.0]
    public var pretrainEpochs = 20
    public var pretrainBatch = 4
    public var pretrainLR = 5e-4
    public var epochs = 80
    public var batch = 2
    public var lr = 3e-3
    public var classRatios = [1.0, 1, 3]
    public var batchDice = true
    public var replicates = 2000
    public var quiet = false

    public init() {}

    /// The real CT files pretrained on when `real` holds them.
    public static let realCTs = ["abdomen-ce-ct.nii.gz", "wholebody-ct.nii.gz"]

    var json: [String: Any] {
        ["seeds": seeds.map { Int($0) }, "unlabeled": unlabeled, "labeled": labeled, "pool": pool, "test": test,
         "real": real?.path ?? NSNull(), "cohort_seed": Int(cohortSeed), "in_plane": "\(inPlane.0),\(inPlane.1)",
         "feature_size": featureSize, "roi": roi, "spacing": spacing, "pretrain_epochs": pretrainEpochs, "pretrain_batch": pretrainBatch,
         "pretrain_lr": pretrainLR, "epochs": epochs, "batch": batch, "lr": lr, "class_ratios": classRatios, "batch_dice": batchDice,
         "bootstrap_replicates": replicates]
    }
}
