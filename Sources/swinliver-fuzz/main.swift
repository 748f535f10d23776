// swinliver-fuzz: drives every reader and command-line entry point of `swinliver` with structured edge
// cases and seeded mutations of small valid files, each case under an address-space and a time limit.
//
// Usage:
//   swinliver-fuzz [--cases N] [--seed S] [--binary PATH] [--jobs J] [--time-limit SECONDS]
//                  [--memory-limit GIB] [--rss-limit MIB] [--report FILE] [--regressions FILE] [--no-regressions]
//                  [--record] [--failures DIR] [--work DIR]
//   swinliver-fuzz --replay SEED:INDEX [...]   # one case again: its folder kept, a Swift backtrace on a crash
//   swinliver-fuzz --list N [--seed S]         # print what cases 0..<N of a seed are, without running them
//   swinliver-fuzz --write-seeds DIR           # write the unmutated seed files (to check them by hand)
//
// Defaults: 10,000 cases, seed 1, the binary .build/release/swinliver (else .build/debug/swinliver), 2 jobs,
// 20 s and 3 GiB of address space per case, 1024 MiB peak RSS, regressions from fuzz/regressions.txt (run
// first), failing inputs kept under runs/fuzz/failures/case-SEED-INDEX/ (with command.sh).
//
// Case families (Cases.swift): NIfTI-1/2 .nii/.nii.gz through metrics, preprocess, slices, segment and
// evaluate; evaluate/slices/dataset manifests (CSV, dataset.json); classification CSVs; 16/8-bit PNG
// slices through classify; safetensors through export, segment and debug forward; absurd option values
// for every subcommand that takes numbers (Options.swift). A case is pass (exit 0 or a clean error exit),
// crash (a signal), hang (time limit), giant-allocation (allocation failure under the limit or peak RSS
// over the bound) or data-loss (an input changed). The exit status is 1 when any case failed.
// Case SEED:INDEX makes the same files and command line on every machine (the segment/forward cases
// also read a weights file that `swinliver synth` + `train` make at the start of each run).
import Foundation

struct FuzzOptions {
    var cases = 10_000
    var seed: UInt64 = 1
    var binary: String?
    var jobs = 2
    var timeLimit = 20.0
    var memoryGiB = 3.0
    var rssMiB = 1024
    var report: String?
    var regressions = "fuzz/regressions.txt"
    var runRegressions = true
    var record = false
    var failures = "runs/fuzz/failures"
    var work: String?
    var replay: [CaseID] = []
    var list: Int?
    var writeSeeds: String?

    static let usage = "usage: swinliver-fuzz [--cases N] [--seed S] [--binary PATH] [--jobs J] [--time-limit S] [--memory-limit GIB] [--rss-limit MIB] [--report FILE] [--regressions FILE] [--no-regressions] [--record] [--failures DIR] [--work DIR] | --replay SEED:INDEX | --list N"

    static func parse(_ args: [String]) -> FuzzOptions {
        var o = FuzzOptions()
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { fail("\(args[i - 1]) needs a value") }
            return args[i]
        }
        func number<T: LosslessStringConvertible>(_ s: String) -> T {
            guard let v = T(s) else { fail("not a valid number: \(s)") }
            return v
        }
        while i < args.count {
            switch args[i] {
            case "--cases": o.cases = number(value())
            case "--seed": o.seed = number(value())
            case "--binary": o.binary = value()
            case "--jobs": o.jobs = max(1, number(value()) as Int)
            case "--time-limit": o.timeLimit = number(value())
            case "--memory-limit": o.memoryGiB = number(value())
            case "--rss-limit": o.rssMiB = number(value())
            case "--report": o.report = value()
            case "--regressions": o.regressions = value()
            case "--no-regressions": o.runRegressions = false
            case "--record": o.record = true
            case "--failures": o.failures = value()
            case "--work": o.work = value()
            case "--replay":
                guard let id = CaseID(Substring(value())) else { fail("--replay takes SEED:INDEX") }
                o.replay.append(id)
            case "--list": o.list = number(value())
            case "--write-seeds": o.writeSeeds = value()
            case "-h", "--help": print(usage); exit(0)
            default: fail("unknown argument \(args[i])\n\(usage)")
            }
            i += 1
        }
        guard o.cases >= 0, o.timeLimit > 0, o.memoryGiB > 0 else { fail("--cases, --time-limit and --memory-limit must be positive") }
        return o
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("swinliver-fuzz: \(message)\n".utf8))
    exit(2)
}

setvbuf(stdout, nil, _IOLBF, 0)  // progress lines show up in logs as they happen
let options = FuzzOptions.parse(Array(CommandLine.arguments.dropFirst()))

if let dir = options.writeSeeds {
    var spec = CaseSpec(id: CaseID(seed: 0, index: 0), family: "seeds")
    var m = Mutator(rng: spec.id.rng)
    Options.kit(&spec, &m)
    spec.files += [("ct2.nii", Seeds.nifti2(Seeds.ct())), ("mask2.nii", Seeds.nifti2(Seeds.mask())), ("small.safetensors", Seeds.smallTensors()),
                   ("ct1.nii", Seeds.nifti1(Seeds.ct())), ("ct_f32.nii", Seeds.nifti1(Seeds.ct(type: .float32))),
                   ("dataset/decathlon.json", Array(Seeds.decathlonJSON.utf8)), ("evaluate_manifest.csv", Array(Seeds.evaluateManifest.utf8))]
    let h = Harness(runner: Runner(binary: "", addressSpaceBytes: 0, rssLimitBytes: 0, timeLimit: 1),
                    seeds: RealSeeds(dir: URL(fileURLWithPath: dir), weights: []), workDir: URL(fileURLWithPath: dir), failuresDir: URL(fileURLWithPath: dir))
    try h.write(spec, to: URL(fileURLWithPath: dir))
    print("wrote \(spec.files.count) seed files to \(dir)")
    exit(0)
}

if let n = options.list {
    let stand = RealSeeds(dir: URL(fileURLWithPath: "<seeds>"), weights: Seeds.smallTensors())
    for i in 0..<n {
        let s = Cases.make(CaseID(seed: options.seed, index: i), seeds: stand)
        print("\(s.id) [\(s.family)] swinliver \(s.arguments.joined(separator: " "))  # \(s.mutation)")
    }
    exit(0)
}

let found: String? = options.binary ?? [".build/release/swinliver", ".build/debug/swinliver"].first { FileManager.default.isExecutableFile(atPath: $0) }
guard let binary = found else { fail("no swinliver binary: build it (swift build --product swinliver) or pass --binary") }
guard FileManager.default.isExecutableFile(atPath: binary) else { fail("\(binary) is not an executable") }
let binaryPath = URL(fileURLWithPath: binary).standardizedFileURL.path

let work = URL(fileURLWithPath: options.work ?? NSTemporaryDirectory()).appendingPathComponent("swinliver-fuzz-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

var runner = Runner(binary: binaryPath, addressSpaceBytes: Int(options.memoryGiB * 1_073_741_824), rssLimitBytes: options.rssMiB << 20,
                    timeLimit: options.timeLimit)
print("swinliver-fuzz: \(binaryPath), \(options.jobs) jobs, \(Int(options.timeLimit)) s / \(options.memoryGiB) GiB address space / \(options.rssMiB) MiB RSS per case")

// A sanity check: a plain command must pass under the limits, else every case would be a false alarm.
let probe = runner.run(arguments: ["synth", "--cases", "1", "--in-plane", "24,20", "--out", work.appendingPathComponent("probe").path], folder: work)
guard probe.outcome == Outcome.pass && probe.exitStatus == 0 else {
    fail("`swinliver synth` does not run under the limits (\(probe.summary)): \(probe.lastLine)")
}

let seedStart = Date()
let seeds = try RealSeeds.make(binary: binaryPath, in: work.appendingPathComponent("seeds"), runner: runner)
print(String(format: "seed weights: %d bytes (%.1f s)", seeds.weights.count, Date().timeIntervalSince(seedStart)))

if !options.replay.isEmpty {
    runner.environment = ["SWIFT_BACKTRACE": "enable=yes,interactive=no,color=no,sanitize=no,threads=crashed"]
    runner.timeLimit = max(options.timeLimit, 60)
    let harness = Harness(runner: runner, seeds: seeds, workDir: work, failuresDir: URL(fileURLWithPath: options.failures))
    var failed = false
    for id in options.replay {
        let r = harness.run(id, keep: true)
        failed = failed || r.result.outcome != Outcome.pass
        print("\ncase \(id) [\(r.spec.family)]: \(r.spec.mutation)")
        print("command: \(r.command)")
        print("outcome: \(r.result.outcome.rawValue) (\(r.result.summary)); inputs in \(r.keptAt ?? "?")")
        print("stderr (tail):\n\(r.result.stderrTail)")
    }
    exit(failed ? 1 : 0)
}

let harness = Harness(runner: runner, seeds: seeds, workDir: work, failuresDir: URL(fileURLWithPath: options.failures))
let regressionURL = URL(fileURLWithPath: options.regressions)
var queue: [(CaseID, Bool)] = []
if options.runRegressions {
    let ids = Regressions.read(regressionURL)
    print("\(ids.count) regression cases from \(options.regressions)")
    queue += ids.map { ($0, true) }
}
let listed = Set(queue.map(\.0))
queue += (0..<options.cases).map { (CaseID(seed: options.seed, index: $0), false) }.filter { !listed.contains($0.0) }

let report = Report()
report.planned = queue.count
let lock = NSLock()
var next = 0
let done = DispatchGroup()
for _ in 0..<options.jobs {
    done.enter()
    let t = Thread {
        while true {
            lock.lock()
            let k = next
            next += 1
            lock.unlock()
            guard k < queue.count else { break }
            report.add(harness.run(queue[k].0, regression: queue[k].1))
        }
        done.leave()
    }
    t.stackSize = 8 << 20
    t.start()
}
done.wait()

report.printSummary()
if let path = options.report {
    try report.write(to: URL(fileURLWithPath: path))
    print("report: \(path)")
}
if options.record {
    let added = try Regressions.record(report.classes, to: regressionURL)
    print("recorded \(added) new regression cases in \(options.regressions)")
}
exit(report.failures.isEmpty ? 0 : 1)
