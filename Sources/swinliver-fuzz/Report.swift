import Foundation

/// Tallies results per family and per distinct failure class, prints progress and the final table,
/// and writes the JSON report.
final class Report {
    private let lock = NSLock()
    private(set) var results: [CaseResult] = []
    private var counts: [String: [Outcome: Int]] = [:]
    private var seconds: [String: Double] = [:]
    let started = Date()
    var planned = 0
    private var lastProgress = Date()

    func add(_ r: CaseResult) {
        lock.lock(); defer { lock.unlock() }
        results.append(r)
        counts[r.spec.family, default: [:]][r.result.outcome, default: 0] += 1
        seconds[r.spec.family, default: 0] += r.result.seconds
        if r.result.outcome != .pass {
            print("FAIL \(r.spec.id) [\(r.spec.family)] \(r.result.outcome.rawValue): \(r.result.summary) — \(r.result.lastLine.prefix(200))\(r.result.location.map { " at " + $0 } ?? "")")
        }
        if Date().timeIntervalSince(lastProgress) > 15 {
            lastProgress = Date()
            let t = Date().timeIntervalSince(started)
            print(String(format: "[%d/%d] %.1f cases/s, %d failures", results.count, planned, Double(results.count) / t, failures.count))
        }
    }

    var failures: [CaseResult] { results.filter { $0.result.outcome != .pass } }

    /// The entry point of a command line ("metrics", "classify cv", …).
    static func entry(_ args: [String]) -> String {
        guard let first = args.first else { return "" }
        return ["classify", "debug", "bench"].contains(first) && args.count > 1 ? "\(first) \(args[1])" : first
    }

    /// A failure's class: outcome, signal, entry point and its last stderr line with paths and numbers
    /// blanked, so the same bug found by many cases is listed once.
    static func classKey(_ r: CaseResult) -> String {
        var line = r.result.lastLine
        line = line.replacingOccurrences(of: #"/[^\s:'"]*case-\d+-\d+[^\s:'"]*"#, with: "<file>", options: .regularExpression)
        line = line.replacingOccurrences(of: #"0x[0-9a-fA-F]+"#, with: "#", options: .regularExpression)
        line = line.replacingOccurrences(of: #"(?<![A-Za-z.])-?\d+(\.\d+)?(e[-+]?\d+)?"#, with: "#", options: .regularExpression)
        let keepLines = line.contains(".swift:")
        if keepLines { line = r.result.lastLine.replacingOccurrences(of: #"/[^\s:'"]*case-\d+-\d+[^\s:'"]*"#, with: "<file>", options: .regularExpression) }
        let signal = r.result.signal != 0 ? Runner.signalName(r.result.signal) : ""
        let place = r.result.location.map { " at \($0.split(separator: ":").prefix(2).joined(separator: ":"))" } ?? ""
        return "\(r.result.outcome.rawValue) \(signal) [\(entry(r.spec.arguments))] \(r.result.outcome == .hang ? r.spec.family : line)\(place)"
    }

    /// Failures grouped by class, each with its cases in id order.
    var classes: [(key: String, cases: [CaseResult])] {
        Dictionary(grouping: failures, by: Report.classKey).map { ($0.key, $0.value.sorted { $0.spec.id < $1.spec.id }) }
            .sorted { $0.cases.count > $1.cases.count || ($0.cases.count == $1.cases.count && $0.key < $1.key) }
    }

    func printSummary() {
        let t = Date().timeIntervalSince(started)
        let outcomes = Outcome.allCases
        print("\nfamily                 cases   " + outcomes.map { $0.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined(separator: " ") + "  mean s")
        var total: [Outcome: Int] = [:]
        for family in Cases.families.map(\.name) {
            guard let c = counts[family] else { continue }
            let n = c.values.reduce(0, +)
            for (k, v) in c { total[k, default: 0] += v }
            print(family.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%6d   ", n)
                  + outcomes.map { String(c[$0] ?? 0).padding(toLength: 9, withPad: " ", startingAt: 0) }.joined(separator: " ")
                  + String(format: "  %.2f", seconds[family, default: 0] / Double(max(n, 1))))
        }
        let n = results.count
        print("total".padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%6d   ", n)
              + outcomes.map { String(total[$0] ?? 0).padding(toLength: 9, withPad: " ", startingAt: 0) }.joined(separator: " "))
        print(String(format: "\n%d cases in %.0f s (%.1f cases/s): %d passed, %d crashes, %d hangs, %d giant allocations, %d data losses",
                     n, t, Double(n) / max(t, 1e-9), total[.pass] ?? 0, total[.crash] ?? 0, total[.hang] ?? 0, total[.giantAllocation] ?? 0,
                     total[.dataLoss] ?? 0))
        let cls = classes
        if !cls.isEmpty {
            print("\n\(cls.count) distinct failure classes:")
            for (i, c) in cls.enumerated() {
                let first = c.cases[0]
                print("\n\(i + 1). \(c.key)  (\(c.cases.count) cases: \(c.cases.prefix(5).map { $0.spec.id.description }.joined(separator: ", "))\(c.cases.count > 5 ? ", …" : ""))")
                print("   case \(first.spec.id) [\(first.spec.family)]: \(first.spec.mutation)")
                print("   \(first.result.summary); stderr: \(first.result.lastLine.prefix(300))")
                if let at = first.result.location { print("   at \(at)") }
                print("   reproduce: swinliver-fuzz --replay \(first.spec.id)   or   \(first.command)")
                if let k = first.keptAt { print("   inputs kept in \(k)") }
            }
        }
    }

    /// The JSON report: totals, per family, and every failure.
    func write(to url: URL) throws {
        let t = Date().timeIntervalSince(started)
        var families: [String: Any] = [:]
        for (f, c) in counts { families[f] = Dictionary(uniqueKeysWithValues: c.map { ($0.key.rawValue, $0.value) }) }
        let fails: [[String: Any]] = failures.sorted { $0.spec.id < $1.spec.id }.map { r in
            ["id": r.spec.id.description, "family": r.spec.family, "outcome": r.result.outcome.rawValue, "summary": r.result.summary,
             "signal": Int(r.result.signal), "exit": Int(r.result.exitStatus), "stderr_last_line": r.result.lastLine, "location": r.result.location ?? "",
             "mutation": r.spec.mutation, "command": r.command, "kept_at": r.keptAt ?? "", "class": Report.classKey(r), "regression": r.regression]
        }
        let json: [String: Any] = ["cases": results.count, "seconds": t, "cases_per_second": Double(results.count) / max(t, 1e-9),
                                   "families": families, "failures": fails, "classes": classes.map { ["class": $0.key, "cases": $0.cases.count, "first": $0.cases[0].spec.id.description] }]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: url)
    }
}
