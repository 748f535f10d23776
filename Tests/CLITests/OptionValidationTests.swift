import Classification
import Foundation
import TestSupport
import XCTest

/// Hostile option values: each is refused by the command's validate() before any work, as a usage
/// error (exit 64) that names the option; none reaches an arithmetic trap ("Fatal error"), an encoder's
/// raw error text or a giant allocation.
final class OptionValidationTests: XCTestCase {
    static let train = ["train", "--data", "missing-data", "--out", "missing-out"]
    static let pretrain = ["pretrain", "--data", "missing-data", "--out", "missing-out"]
    static let segment = ["segment", "missing.nii.gz", "--weights", "missing.safetensors", "--out", "missing-out.nii.gz"]
    static let classify = ["classify", "train", "--slices", "missing-slices", "--out", "missing-out"]
    static let metrics = ["metrics", "--classification", "missing.csv"]
    static let sliding = ["debug", "sliding-window", "--weights", "w", "--input", "x", "--output", "y"]

    /// (arguments, the option the error must name)
    static let cases: [([String], String)] = [
        // Traps: arithmetic / conversion of out-of-range values.
        (train + ["--batch", "0"], "--batch"),
        (train + ["--batch", "100000"], "--batch"),
        (train + ["--epochs=-1"], "--epochs"),
        (train + ["--epochs", "0"], "--epochs"),
        (classify + ["--swa-start", "nan"], "--swa-start"),
        (classify + ["--swa-start", "1.5"], "--swa-start"),
        (metrics + ["--bootstrap=-1"], "--bootstrap"),
        (train + ["--roi=-64"], "--roi"),
        (train + ["--roi", "4611686018427387904"], "--roi"),
        (["synth", "--out", "missing-out", "--in-plane", "9223372036854775808,64"], "--in-plane"),
        (["synth", "--out", "missing-out", "--in-plane", "4611686018427387904,64"], "--in-plane"),
        (train + ["--spacing", "1e-300"], "--spacing"),
        (train + ["--spacing", "inf"], "--spacing"),
        (train + ["--spacing", "nan"], "--spacing"),
        (segment + ["--spacing", "1e-300"], "--spacing"),
        (["preprocess", "missing.nii.gz", "--out", "o.nii.gz", "--spacing", "inf"], "--spacing"),
        // Giant allocations / hangs.
        (train + ["--spacing", "1e-3"], "--spacing"),
        (train + ["--roi", "100000"], "--roi"),
        (segment + ["--roi", "100000"], "--roi"),
        (classify + ["--size", "100000"], "--size"),
        (train + ["--feature-size", "12582912"], "--feature-size"),
        (metrics + ["--bootstrap", "1000000000"], "--bootstrap"),
        (["bench", "train", "--roi", "100000"], "--roi"),
        (["bench", "metrics", "--shape", "100000,100000,100000"], "--shape"),
        // Silent accepts.
        (["metrics", "--gt", "a.nii.gz", "--pred", "b.nii.gz", "--labels", "abc"], "--labels"),
        (["metrics", "--gt", "a.nii.gz", "--pred", "b.nii.gz", "--labels", "1,x"], "--labels"),
        (["evaluate", "--pred", "p", "--gt", "g", "--labels", "abc"], "--labels"),
        (train + ["--spacing", "1.5,abc,2,3"], "--spacing"),
        (train + ["--spacing", "1.5,2"], "--spacing"),
        (train + ["--lr=-1"], "--lr"),
        (train + ["--lr", "nan"], "--lr"),
        (train + ["--weight-decay=-1"], "--weight-decay"),
        (train + ["--train-fraction", "2"], "--train-fraction"),
        (train + ["--train-fraction", "1"], "--train-fraction"),
        (train + ["--overlap", "1"], "--overlap"),
        (train + ["--class-ratios", "1,abc,3"], "--class-ratios"),
        (train + ["--warmup", "nan"], "--warmup"),
        (classify + ["--label-smoothing", "2"], "--label-smoothing"),
        (classify + ["--dropout", "1"], "--dropout"),
        (classify + ["--dropout", "nan"], "--dropout"),
        (classify + ["--batch", "1"], "--batch 1"),
        (classify + ["--lr", "nan"], "--lr"),
        (classify + ["--batch", "0"], "--batch"),
        (classify + ["--checkpoint-every", "0"], "--checkpoint-every"),
        (["slices", "--data", "d", "--out", "o", "--margin", "nan"], "--margin"),
        (["slices", "--data", "d", "--out", "o", "--margin", "5000"], "--margin"),
        (classify + ["--size", "10"], "--size"),
        (classify + ["--size", "100", "--aux-logits"], "--size"),
        (segment + ["--overlap", "1"], "--overlap"),
        (sliding + ["--sigma-scale", "nan"], "--sigma-scale"),
        (sliding + ["--overlap", "1"], "--overlap"),
        (sliding + ["--sw-batch", "0"], "--sw-batch"),
        (metrics + ["--bootstrap", "0"], "--bootstrap"),
        (["evaluate", "--pred", "p", "--gt", "g", "--bootstrap", "0"], "--bootstrap"),
        (["classify", "cv", "--slices", "s", "--out", "o", "--replicates", "0"], "--replicates"),
        (["classify", "cv", "--slices", "s", "--out", "o", "--folds", "1"], "--folds"),
        (["synth", "--out", "missing-out", "--cases", "0"], "--cases"),
        (["synth", "--out", "missing-out", "--cases", "100000"], "--cases"),
        (["synth", "--out", "missing-out", "--in-plane", "8,8"], "--in-plane"),
        (["demo", "--cases", "0"], "--cases"),
        (["demo", "--lr", "inf"], "--lr"),
        (["demo", "--classify-cases", "0"], "--classify-cases"),
        (["demo", "--pretrain-batch", "1"], "--pretrain-batch"),
        (["demo", "--classify-cases", "3"], "--classify-cases 3: 5 folds need at least 5 cases"),
        (["demo", "--classify-in-plane", "0,0"], "--classify-in-plane"),
        (["demo", "--classifier-size", "10"], "--classifier-size"),
        (["demo", "--classifier-epochs", "0"], "--classifier-epochs"),
        (["demo", "--classifier-batch", "1"], "--classifier-batch 1"),
        (["demo", "--classifier-lr", "nan"], "--classifier-lr"),
        (["demo", "--classifier-dropout", "1"], "--classifier-dropout"),
        (["demo", "--folds", "1"], "--folds"),
        (["demo", "--replicates", "0"], "--replicates"),
        (pretrain + ["--temperature", "nan"], "--temperature"),
        (pretrain + ["--lambda-flip", "inf"], "--lambda-flip"),
        (["ablate", "--data", "d", "--out", "o", "--pretrain-lr", "nan"], "--pretrain-lr"),
        (["run", "ct.nii.gz", "--seg-weights", "s", "--cls-weights", "c", "--out", "o", "--review-below", "2"], "--review-below"),
        (["debug", "step", "--weights", "w", "--input", "x", "--output", "y", "--label", "l", "--lr", "nan"], "--lr"),
        (["preprocess", "missing.nii.gz", "--out", "o.nii.gz", "--window", "nan,100"], "--window"),
        (["bench", "loader", "--data", "d", "--workers", "0"], "--workers"),
        // Internal op errors a user can reach: a 32³ input leaves one voxel at the bottleneck (instance norm
        // needs more), and sizes off the 32 grid fail MONAI's input check.
        (train + ["--roi", "32"], "--roi"),
        (train + ["--roi", "48,64,64"], "--roi"),
        (sliding + ["--roi", "32,32,32"], "--roi"),
        (["bench", "train", "--roi", "32"], "--roi"),
    ]

    func testHostileOptionsAreUsageErrorsNamingTheOption() throws {
        for (arguments, option) in Self.cases {
            let r = try runSwinLiver(arguments)
            let line = arguments.joined(separator: " ")
            XCTAssertEqual(r.status, 64, "\(line): exit \(r.status)\n\(r.stderr)")
            XCTAssertTrue(r.stderr.contains("Error: \(option)"), "\(line): the error does not name \(option):\n\(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"), "\(line):\n\(r.stderr)")
            XCTAssertFalse(r.stderr.contains("EncodingError") || r.stderr.contains("DecodingError"), "\(line):\n\(r.stderr)")
        }
    }

    /// The messages say what is allowed, and why where the bound comes from the network.
    func testMessagesGiveTheAllowedRange() throws {
        var r = try runSwinLiver(Self.train + ["--roi", "100000"])
        XCTAssertTrue(r.stderr.contains("--roi 100000: each size must be between 32 and 512 and a multiple of 32"), r.stderr)
        r = try runSwinLiver(Self.train + ["--roi", "32"])
        XCTAssertTrue(r.stderr.contains("--roi 32: Swin UNETR needs at least 64 on one axis"), r.stderr)
        r = try runSwinLiver(Self.metrics + ["--bootstrap", "0"])
        XCTAssertTrue(r.stderr.contains("--bootstrap 0: must be between 1 and 100000"), r.stderr)
        r = try runSwinLiver(Self.train + ["--overlap", "1"])
        XCTAssertTrue(r.stderr.contains("--overlap 1: must be a finite number in [0, 1)"), r.stderr)
        r = try runSwinLiver(Self.train + ["--spacing", "1.5,abc,2,3"])
        XCTAssertTrue(r.stderr.contains("'abc' is not a finite number"), r.stderr)
        r = try runSwinLiver(Self.train + ["--spacing", "1e-3"])
        XCTAssertTrue(r.stderr.contains("each spacing must be between 0.1 and 20 mm"), r.stderr)
    }

    /// Values at the ends of the ranges still pass validation (the run then fails on the missing data, exit 1).
    func testBoundaryValuesPassValidation() throws {
        for extra in [["--roi", "64,32,32"], ["--roi", "512"], ["--spacing", "0.1"], ["--spacing", "20"], ["--batch", "1"],
                      ["--train-fraction", "0.5"], ["--overlap", "0"], ["--feature-size", "12"], ["--class-ratios", "1,1,3"]] {
            let r = try runSwinLiver(Self.train + extra + ["--device", "cpu", "--quiet"])
            XCTAssertEqual(r.status, 1, "\(extra): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Usage:"), "\(extra): \(r.stderr)")
        }
    }

    /// Slices of two sizes without --size are refused up front, naming --size (they used to trap in training).
    func testMixedSliceSizesNeedSize() throws {
        let dir = try temporaryFolder("mixed-slices")
        defer { try? FileManager.default.removeItem(at: dir) }
        var manifest = ["patient,slice,class,file"]
        for (p, (cls, side)) in [("HCC", 80), ("ICC", 96)].enumerated() {
            let name = "p\(p)_slice00.png"
            try PNGFile.writeGray16([Float](repeating: 0.5, count: side * side), width: side, height: side, to: dir.appendingPathComponent(name))
            manifest.append("p\(p),0,\(cls),\(name)")
        }
        try (manifest.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
        let r = try runSwinLiver(["classify", "train", "--slices", dir.path, "--out", dir.appendingPathComponent("out").path, "--device", "cpu"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("different sizes") && r.stderr.contains("--size"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}
