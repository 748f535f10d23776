import Foundation
import SafeTensors
import TestSupport
import Volumes
import XCTest

/// `synth` → `pretrain` → `train --init-encoder` → `segment` → `export` on a tiny cohort (CPU backend),
/// and a run killed mid-training that `--resume` continues with the uninterrupted run's losses.
final class TrainingCommandTests: XCTestCase {
    static let model = ["--feature-size", "12", "--roi", "64,32,32", "--spacing", "8", "--device", "cpu", "--quiet"]

    func cohort() throws -> URL {
        let dir = try temporaryFolder("cohort")
        let r = try runSwinLiver(["synth", "--cases", "3", "--in-plane", "40,32", "--out", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir
    }

    func losses(_ log: URL) throws -> [Int: Double] { try loggedLosses(log) }

    func testPretrainTrainSegmentExport() throws {
        let data = try cohort(), work = try temporaryFolder("pipeline")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: work) }
        let pre = work.appendingPathComponent("pretrain")
        var r = try runSwinLiver(["pretrain", "--data", data.path, "--out", pre.path, "--epochs", "1", "--batch", "2", "--samples", "1",
                                  "--max-steps", "1"] + Self.model)
        XCTAssertEqual(r.status, 0, r.stderr)
        let encoder = try SafeTensorsFile(contentsOf: pre.appendingPathComponent("encoder.safetensors"))
        XCTAssertTrue(encoder.keys.contains("swinViT.patch_embed.proj.weight"))
        XCTAssertTrue(encoder.keys.contains("swinViT.layers4.0.blocks.1.attn.qkv.weight"))
        XCTAssertTrue(encoder.keys.contains("rotation_head.weight") && encoder.keys.contains("conv.4.weight"))
        XCTAssertEqual(try losses(pre.appendingPathComponent("log.jsonl")).count, 1)

        // A pretrained encoder that differs from the seeded initial weights by +0.5 in the patch embedding, so
        // the check below fails if --init-encoder were ignored (both runs draw the same seeded weights).
        var shifted = SafeTensorsWriter()
        shifted.metadata = encoder.metadata
        for k in encoder.keys {
            let info = try encoder.info(k)
            if k == "swinViT.patch_embed.proj.weight" {
                try shifted.add(k, try encoder.floats(k).map { $0 + 0.5 }, shape: info.shape)
            } else {
                try shifted.addRaw(k, dtype: info.dtype, shape: info.shape, bytes: try encoder.bytes(k))
            }
        }
        let shiftedURL = work.appendingPathComponent("encoder-shifted.safetensors")
        try shifted.write(to: shiftedURL)
        let run = work.appendingPathComponent("train")
        r = try runSwinLiver(["train", "--data", data.path, "--out", run.path, "--init-encoder", shiftedURL.path,
                              "--epochs", "1", "--batch", "1", "--samples", "1", "--validate-every", "1"] + Self.model)
        XCTAssertEqual(r.status, 0, r.stderr)
        for f in ["best.safetensors", "final.safetensors", "checkpoint.safetensors", "split.json", "validation.json", "options.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(f).path), f)
        }
        let validation = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("validation.json"))) as! [String: Any]
        XCTAssertTrue((validation["liver_dice"] as? Double).map { (0...1).contains($0) } ?? false, "\(validation)")
        // The fine-tuned encoder started from the given one: after one small step it is still within 0.01 of
        // it, and 0.5 away from the unshifted (seeded) weights it would hold had the file been ignored.
        let best = try SafeTensorsFile(contentsOf: run.appendingPathComponent("best.safetensors"))
        XCTAssertEqual(best.metadata["spacing"], "8.0,8.0,8.0")
        let a = try best.floats("swinViT.patch_embed.proj.weight"), b = try encoder.floats("swinViT.patch_embed.proj.weight")
        XCTAssertEqual(a.count, b.count)
        XCTAssertLessThan(zip(a, b).map { abs($0 - 0.5 - $1) }.max()!, 0.01)
        XCTAssertGreaterThan(zip(a, b).map { abs($0 - $1) }.min()!, 0.49)

        let ct = data.appendingPathComponent("imagesTr").appendingPathComponent(try FileManager.default.contentsOfDirectory(
            atPath: data.appendingPathComponent("imagesTr").path).sorted()[0])
        let mask = work.appendingPathComponent("mask.nii.gz"), probs = work.appendingPathComponent("p.nii.gz")
        r = try runSwinLiver(["segment", ct.path, "--weights", run.appendingPathComponent("best.safetensors").path, "--out", mask.path,
                              "--probabilities", probs.path, "--device", "cpu"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("liver") && r.stdout.contains("mL"), r.stdout)
        let (input, inputHeader) = try NIfTI.read(ct), (m, header) = try NIfTI.read(mask)
        XCTAssertEqual(m.shape, input.shape)
        XCTAssertEqual(m.affine, input.affine, "the mask must carry the input's affine")
        XCTAssertEqual(header.sform, inputHeader.sform)
        XCTAssertEqual(header.datatype, .uint8)
        XCTAssertTrue(m.values.allSatisfy { [0, 1, 2].contains($0) })
        let p = try NIfTI.read(work.appendingPathComponent("p_liver.nii.gz")).volume
        XCTAssertTrue(p.values.allSatisfy { $0 >= 0 && $0 <= 1 })

        let exported = work.appendingPathComponent("export.safetensors")
        r = try runSwinLiver(["export", run.appendingPathComponent("checkpoint.safetensors").path, "--out", exported.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try SafeTensorsFile(contentsOf: exported), f = try SafeTensorsFile(contentsOf: run.appendingPathComponent("final.safetensors"))
        XCTAssertEqual(Set(e.keys), Set(f.keys))
        XCTAssertFalse(e.keys.contains { $0.hasPrefix("optimizer.") })
        XCTAssertEqual(try e.floats("out.conv.conv.weight"), try f.floats("out.conv.conv.weight"))
        let config = try JSONSerialization.jsonObject(with: Data((e.metadata["config"] ?? "").utf8)) as? [String: Any]
        XCTAssertEqual(config?["feature_size"] as? Int, 12)
        XCTAssertEqual(config?["out_channels"] as? Int, 3)

        // Batch Dice and no validation (the demo scores the held-out cases itself): final weights only.
        let quick = work.appendingPathComponent("quick")
        r = try runSwinLiver(["train", "--data", data.path, "--out", quick.path, "--epochs", "1", "--batch", "2", "--samples", "1",
                              "--max-steps", "1", "--validate-every", "0", "--batch-dice"] + Self.model)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: quick.appendingPathComponent("final.safetensors").path))
        for f in ["best.safetensors", "validation.json"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: quick.appendingPathComponent(f).path), "\(f) without validation")
        }
        let options = try String(contentsOf: quick.appendingPathComponent("options.json"), encoding: .utf8)
        XCTAssertTrue(options.contains("\"batchDice\":true"), options)
    }

    /// `swinliver demo` at a tiny size: on the CPU backend the baseline fine-tunes on its own thread beside
    /// pretraining and the SSL fine-tune, which must give the same losses and held-out scores as `--sequential`.
    func testDemoSideBySideMatchesSequential() throws {
        let work = try temporaryFolder("demo")
        defer { try? FileManager.default.removeItem(at: work) }
        let common = ["--cases", "4", "--in-plane", "40,32", "--epochs", "1", "--batch", "1", "--pretrain-epochs", "1", "--spacing", "8",
                      "--device", "cpu", "--quiet", "--real", work.appendingPathComponent("no-real-scans").path,
                      "--classify-cases", "3", "--classify-in-plane", "48,40", "--classifier-epochs", "1", "--classifier-batch", "8",
                      "--folds", "2", "--replicates", "20"]
        var summaries: [[String: Any]] = []
        for (name, extra) in [("side", [String]()), ("sequential", ["--sequential"])] {
            let out = work.appendingPathComponent(name)
            let r = try runSwinLiver(["demo", "--out", out.path] + common + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("| baseline |") && r.stdout.contains("| ssl |"), r.stdout)
            XCTAssertTrue(r.stdout.contains("not found"), "the missing real-scan folder is reported: \(r.stdout)")
            let summary = try Data(contentsOf: out.appendingPathComponent("summary.json"))
            summaries.append(try JSONSerialization.jsonObject(with: summary) as! [String: Any])
            // The classification half ran: 5-fold CV from ground-truth masks scored every patient, reports for the held-out CTs.
            XCTAssertTrue(r.stdout.contains("| ground-truth masks | 3/3 |"), r.stdout)
            let classification = try XCTUnwrap(summaries.last?["classification"] as? [String: Any])
            let gt = try XCTUnwrap(classification["ground_truth_masks"] as? [String: Any])
            XCTAssertEqual(gt["patients"] as? Int, 3)
            XCTAssertTrue(((gt["accuracy"] as? [String: Any])?["value"] as? Double).map { (0...1).contains($0) } ?? false, "\(gt)")
            XCTAssertNotNil(classification["predicted_masks"])
            // Pretraining saw the training CTs and the classification cohort's 3 CTs, 4 crops a step (drop-last).
            let pretraining = try XCTUnwrap(summaries.last?["pretraining"] as? [String: Any])
            let volumes = try XCTUnwrap(summaries.last?["train_cases"] as? Int) + 3
            XCTAssertEqual(pretraining["volumes"] as? Int, volumes)
            XCTAssertEqual(pretraining["steps"] as? Int, volumes * 2 / 4)
            XCTAssertNotNil((pretraining["contrast"] as? [String: Any])?["chance"])
            let reports = try XCTUnwrap(summaries.last?["reports"] as? [String])
            XCTAssertEqual(reports.count, summaries.last?["held_out_cases"] as? Int)
            for dir in reports {
                for f in ["mask.nii.gz", "report.json", "report.md"] {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: URL(fileURLWithPath: dir).appendingPathComponent(f).path), "\(dir)/\(f)")
                }
            }
        }
        for v in ["baseline", "ssl"] {
            let side = try losses(work.appendingPathComponent("side/\(v)/log.jsonl"))
            XCTAssertFalse(side.isEmpty, v)
            XCTAssertEqual(side, try losses(work.appendingPathComponent("sequential/\(v)/log.jsonl")), v)
            let a = summaries[0][v] as? NSDictionary, b = summaries[1][v] as? NSDictionary
            XCTAssertNotNil(a, v)
            XCTAssertEqual(a, b, v)
        }
    }

    func testKilledRunResumesWithTheSameLosses() throws {
        let data = try cohort(), work = try temporaryFolder("resume")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: work) }
        let args = ["--data", data.path, "--epochs", "3", "--batch", "1", "--samples", "1", "--checkpoint-every", "1",
                    "--validate-every", "100", "--max-steps", "5"] + Self.model
        let straight = work.appendingPathComponent("straight")
        var r = try runSwinLiver(["train", "--out", straight.path] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let want = try losses(straight.appendingPathComponent("log.jsonl"))
        XCTAssertEqual(want.keys.sorted(), [1, 2, 3, 4, 5])

        // Start the same run, kill it (SIGKILL) once two steps are logged, then resume.
        let killed = work.appendingPathComponent("killed")
        let log = killed.appendingPathComponent("log.jsonl")
        XCTAssertTrue(try killSwinLiver(["train", "--out", killed.path] + args, whenLogged: 2, in: log), "the run finished before it could be killed")
        XCTAssertLessThan(try losses(log).count, 5)
        r = try runSwinLiver(["train", "--out", killed.path, "--resume"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try losses(log), want, "a resumed run must reproduce the uninterrupted run's losses")

        // Resuming with other options is refused, naming the checkpoint.
        r = try runSwinLiver(["train", "--out", killed.path, "--resume", "--lr", "0.5"] + args)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("checkpoint.safetensors") && r.stderr.contains("other options"), r.stderr)
    }
}

extension TrainingCommandTests {
    func testAblateTabulatesEachVariant() throws {
        let data = try cohort(), work = try temporaryFolder("ablate")
        defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: work) }
        let r = try runSwinLiver(["ablate", "--data", data.path, "--out", work.path, "--variants", "baseline,flip+contrast",
                                  "--epochs", "1", "--pretrain-epochs", "1", "--batch", "2", "--samples", "1", "--validate-every", "1"]
                                 + Self.model)
        XCTAssertEqual(r.status, 0, r.stderr)
        let table = try String(contentsOf: work.appendingPathComponent("ablation.md"), encoding: .utf8)
        XCTAssertTrue(table.contains("| baseline |") && table.contains("| flip+contrast |"), table)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: work.appendingPathComponent("ablation.json"))) as! [String: [String: Any]]
        XCTAssertEqual(Set(json.keys), ["baseline", "flip+contrast"])
        XCTAssertTrue((json["baseline"]?["liver_dice"] as? Double).map { (0...1).contains($0) } ?? false, "\(json)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("flip+contrast/pretrain/encoder.safetensors").path))
        let bad = try runSwinLiver(["ablate", "--data", data.path, "--out", work.path, "--variants", "rotation"] + Self.model)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown variant 'rotation'"), bad.stderr)
    }
}
