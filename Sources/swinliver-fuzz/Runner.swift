import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one run of `swinliver` ended.
enum Outcome: String, CaseIterable, Sendable {
    /// Exit 0, or a clean non-zero exit (an error message, no signal).
    case pass
    /// Killed by a signal (SIGSEGV: stack overflow or bad access; SIGILL/SIGTRAP: a Swift trap; SIGABRT; SIGBUS; SIGFPE).
    case crash
    /// Still running at the time limit (killed).
    case hang
    /// Tried to allocate past the address-space limit (allocation failure in stderr, with or without a
    /// signal), or peaked above the resident-memory bound.
    case giantAllocation = "giant-allocation"
    /// A file the command only reads was changed or removed.
    case dataLoss = "data-loss"
}

/// The result of one run.
struct RunResult {
    var outcome: Outcome
    var exitStatus: Int32 = 0
    var signal: Int32 = 0
    var seconds: Double = 0
    var peakRSSBytes: Int = 0
    var stderrTail: String = ""

    /// "exit 1", "SIGSEGV", "timeout after 20 s", … and the peak RSS.
    var summary: String {
        let how = outcome == .hang ? "timeout after \(String(format: "%.1f", seconds)) s" : signal != 0 ? Runner.signalName(signal) : "exit \(exitStatus)"
        return "\(how), \(String(format: "%.2f", seconds)) s" + (peakRSSBytes > 0 ? ", peak RSS \(peakRSSBytes >> 20) MiB" : "")
    }

    /// The last non-empty line of stderr (the Swift "Fatal error: …" line when there is one).
    var lastLine: String {
        let lines = stderrTail.split(whereSeparator: \.isNewline).map(String.init)
        if let fatal = lines.first(where: { $0.contains("Fatal error") }) { return fatal }
        // A trap without a message: the backtracer's "*** Swift runtime failure: arithmetic overflow ***".
        if let failure = lines.first(where: { $0.hasPrefix("*** ") && !$0.contains("Backtracing") }) {
            return failure.trimmingCharacters(in: CharacterSet(charactersIn: "* "))
        }
        let text = lines.filter { !$0.hasPrefix(" ") && !$0.hasPrefix("\t") && !$0.hasPrefix("Backtrace took") }
        return text.last ?? lines.last ?? ""
    }

    /// The innermost frame of the Swift backtrace inside the project's Sources/ ("Sources/Volumes/NIfTI.swift:120:9"),
    /// when the runtime printed one.
    var location: String? {
        for line in stderrTail.split(whereSeparator: \.isNewline) where line.contains(" at ") && line.contains("/Sources/") && !line.contains("/.build/") {
            if let r = line.range(of: "/Sources/", options: .backwards) { return "Sources/" + line[r.upperBound...] }
        }
        // No Swift frame of ours: the first frame in a library other than libc ("in libnifti2.so.2.1.0").
        for line in stderrTail.split(whereSeparator: \.isNewline) where line.range(of: #"^\s*\d+\s.*0x[0-9a-f]+ .* in \S+$"#, options: .regularExpression) != nil {
            guard let lib = line.split(separator: " ").last, !lib.hasPrefix("libc.so") else { continue }
            return "in " + lib
        }
        return nil
    }
}

/// Spawns `swinliver` under limits: address space (RLIMIT_AS through `prlimit`, core dumps off), a
/// wall-clock time limit (the process group is killed), stdin from /dev/null, stdout and stderr to files
/// in the case folder, SWINLIVER_DEVICE=cpu; then classifies the outcome.
struct Runner: Sendable {
    var binary: String
    var addressSpaceBytes: Int
    var rssLimitBytes: Int
    var timeLimit: Double
    /// Extra environment for the child (e.g. SWIFT_BACKTRACE on a replay).
    var environment: [String: String] = [:]

    static let allocationFailures = ["Cannot allocate memory", "cannot allocate memory", "out of memory", "Out of memory", "bad_alloc",
                                     "failed to alloc", "Could not allocate memory", "could not allocate", "allocation failed",
                                     "memory allocation", "std::length_error", "Insufficient memory"]

    func run(arguments: [String], folder: URL, timeLimit limit: Double? = nil) -> RunResult {
        let out = folder.appendingPathComponent(".stdout"), err = folder.appendingPathComponent(".stderr")
        var argv = ["/usr/bin/prlimit", "--as=\(addressSpaceBytes)", "--core=0", "--", binary] + arguments
        if !FileManager.default.isExecutableFile(atPath: argv[0]) {
            argv = ["/bin/sh", "-c", "ulimit -v \(addressSpaceBytes / 1024); ulimit -c 0; exec \"$0\" \"$@\"", binary] + arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["SWINLIVER_DEVICE"] = "cpu"
        env["OMP_NUM_THREADS"] = "1"; env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in environment { env[k] = v }
        let envp = env.map { "\($0.key)=\($0.value)" }.sorted()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)

        let start = Date()
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil], cEnv = envp.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, cArgs, cEnv)
        let child = pid
        guard rc == 0 else { return RunResult(outcome: .crash, exitStatus: -1, stderrTail: "posix_spawn failed: \(String(cString: strerror(rc)))") }

        // Block in wait4 (returns the moment the child ends); a timer kills the process group at the limit.
        var status: Int32 = 0, usage = rusage()
        let watchdog = Watchdog()
        DispatchQueue.global().asyncAfter(deadline: .now() + (limit ?? timeLimit)) { watchdog.expire(child) }
        while wait4(child, &status, 0, &usage) < 0 && errno == EINTR {}
        let timedOut = watchdog.finish()
        var r = RunResult(outcome: .pass)
        r.seconds = Date().timeIntervalSince(start)
        // posix_spawn shares this process's memory until exec, so the child's ru_maxrss is at least this
        // process's own high-water mark: count it only above that.
        var own = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &own)
        r.peakRSSBytes = usage.ru_maxrss > own.ru_maxrss ? Int(usage.ru_maxrss) * 1024 : 0
        let sig = status & 0x7f
        if sig != 0 { r.signal = sig } else { r.exitStatus = (status >> 8) & 0xff }
        r.stderrTail = Runner.tail(err)
        let allocation = Runner.allocationFailures.contains { r.stderrTail.contains($0) }
        if timedOut { r.outcome = .hang }
        else if allocation || r.peakRSSBytes > rssLimitBytes { r.outcome = .giantAllocation }
        else if sig != 0 { r.outcome = .crash }
        return r
    }

    /// The last 64 KB of a file as text (a Swift backtrace included).
    static func tail(_ url: URL) -> String {
        guard let h = try? FileHandle(forReadingFrom: url) else { return "" }
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: size > 65536 ? size - 65536 : 0)
        return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGSEGV: return "SIGSEGV"
        case SIGILL: return "SIGILL (Swift trap)"
        case SIGTRAP: return "SIGTRAP (Swift trap)"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        default: return "signal \(s)"
        }
    }
}

/// Kills a child's process group when its time is up, unless it already finished.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var finished = false, fired = false

    func expire(_ pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        if !finished { fired = true; kill(-pid, SIGKILL) }
    }

    /// Marks the child reaped; true when the watchdog had killed it.
    func finish() -> Bool {
        lock.lock(); defer { lock.unlock() }
        finished = true
        return fired
    }
}
