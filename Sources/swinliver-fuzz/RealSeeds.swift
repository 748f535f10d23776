import Foundation

/// Seed files only `swinliver` itself can make cheaply: a real Swin UNETR weights file (feature size
/// 12, one training step on a two-case synthetic cohort). Made once per harness run, into the work
/// folder; the option and segment cases read it as "%/weights.safetensors".
struct RealSeeds {
    var dir: URL
    var weights: [UInt8]

    /// Runs `synth` and `train` with `binary` (a few seconds); when that fails the weights seed is the
    /// small hand-made safetensors file and a warning says so.
    static func make(binary: String, in dir: URL, runner: Runner) throws -> RealSeeds {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("weights.safetensors")
        let cohort = dir.appendingPathComponent("cohort"), run = dir.appendingPathComponent("run")
        let steps: [[String]] = [
            ["synth", "--cases", "2", "--in-plane", "40,32", "--out", cohort.path],
            ["train", "--data", cohort.path, "--out", run.path, "--validate-every", "0"] + Cases.trainBase,
        ]
        var ok = true
        for args in steps where ok {
            let r = runner.run(arguments: args, folder: dir, timeLimit: 300)
            if r.outcome != .pass || r.exitStatus != 0 {
                ok = false
                FileHandle.standardError.write(Data("warning: seed step `swinliver \(args.joined(separator: " "))` failed (\(r.summary)); segment/forward cases use a small stand-in weights file\n".utf8))
            }
        }
        let made = run.appendingPathComponent("final.safetensors")
        if ok, FileManager.default.fileExists(atPath: made.path) {
            try? FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: made, to: file)
        } else {
            try Data(Seeds.smallTensors()).write(to: file)
        }
        try? FileManager.default.removeItem(at: run)
        try? FileManager.default.removeItem(at: cohort)
        return RealSeeds(dir: dir, weights: [UInt8](try Data(contentsOf: file)))
    }
}
