import Foundation

/// The record of one finished case.
struct CaseResult {
    var spec: CaseSpec
    var result: RunResult
    /// The command with real paths (the kept folder for failures), ready to paste into a shell.
    var command: String
    /// Where a failing case's inputs were kept.
    var keptAt: String?
    var regression: Bool
}

/// Runs cases: writes a case's files into a fresh folder under the work folder, runs `swinliver` on them,
/// checks that the inputs were not changed, keeps the folder of a failing case under the failures folder
/// (deleting it otherwise).
struct Harness {
    var runner: Runner
    var seeds: RealSeeds
    var workDir: URL
    var failuresDir: URL

    func folder(for id: CaseID, under dir: URL) -> URL { dir.appendingPathComponent("case-\(id.seed)-\(id.index)") }

    /// "@/x" → the case folder's x, "%/x" → the shared seeds' x.
    func resolve(_ args: [String], caseDir: URL) -> [String] {
        args.map { a in
            if a.hasPrefix("@/") { return caseDir.appendingPathComponent(String(a.dropFirst(2))).path }
            if a.hasPrefix("%/") { return seeds.dir.appendingPathComponent(String(a.dropFirst(2))).path }
            return a
        }
    }

    func write(_ spec: CaseSpec, to dir: URL) throws {
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, bytes) in spec.files {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./,:=+@%".contains($0) }) && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    func commandLine(_ spec: CaseSpec, caseDir: URL) -> String {
        "SWINLIVER_DEVICE=cpu prlimit --as=\(runner.addressSpaceBytes) -- " + ([runner.binary] + resolve(spec.arguments, caseDir: caseDir)).map(Harness.shellQuote).joined(separator: " ")
    }

    /// Runs one case; `keep` keeps its folder even when it passes (replay).
    func run(_ id: CaseID, regression: Bool = false, keep: Bool = false) -> CaseResult {
        let spec = Cases.make(id, seeds: seeds)
        let dir = folder(for: id, under: workDir)
        do { try write(spec, to: dir) } catch {
            return CaseResult(spec: spec, result: RunResult(outcome: .crash, stderrTail: "harness: cannot write the case: \(error)"),
                              command: "", keptAt: nil, regression: regression)
        }
        let shared = spec.sharedInputs.map { seeds.dir.appendingPathComponent($0) }
        let before = shared.map(Harness.stamp)
        var result = runner.run(arguments: resolve(spec.arguments, caseDir: dir), folder: dir)
        if result.outcome == .pass {
            var changed: [String] = []
            for (name, bytes) in spec.files where (try? Data(contentsOf: dir.appendingPathComponent(name))) != Data(bytes) { changed.append(name) }
            for (url, s) in zip(shared, before) where Harness.stamp(url) != s { changed.append(url.path) }
            if !changed.isEmpty {
                result.outcome = .dataLoss
                result.stderrTail += "\nharness: inputs changed or removed: \(changed.joined(separator: ", "))"
            }
        }
        var kept: String? = nil
        var command = commandLine(spec, caseDir: dir)
        if result.outcome != .pass || keep {
            let target = folder(for: id, under: failuresDir)
            try? FileManager.default.createDirectory(at: failuresDir, withIntermediateDirectories: true)
            try? write(spec, to: target)  // the pristine inputs, not what the command left behind
            try? Data((result.stderrTail).utf8).write(to: target.appendingPathComponent(".stderr"))
            command = commandLine(spec, caseDir: target)
            try? Data("\(command)\n# \(result.outcome.rawValue): \(result.summary)\n# \(spec.mutation)\n".utf8).write(to: target.appendingPathComponent("command.sh"))
            kept = target.path
        }
        try? FileManager.default.removeItem(at: dir)
        var done = spec
        done.files = []  // results are kept for the summary; their inputs are not (weights files are 24 MB)
        if result.outcome == .pass { result.stderrTail = String(result.stderrTail.suffix(2000)) }
        return CaseResult(spec: done, result: result, command: command, keptAt: kept, regression: regression)
    }

    /// Size and modification time (enough to notice a shared seed being rewritten).
    static func stamp(_ url: URL) -> String {
        let a = try? FileManager.default.attributesOfItem(atPath: url.path)
        return "\(a?[.size] ?? -1) \((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1)"
    }
}
