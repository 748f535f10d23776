import Foundation

/// fuzz/regressions.txt: one case id ("seed:index") per line, then `#` and what it found. The harness
/// runs these first on every run. Ids are tied to the case tables: when Cases/Options/Mutations change,
/// re-run the fuzzer and re-record the list.
enum Regressions {
    static func read(_ url: URL) -> [CaseID] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            let id = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingCharacters(in: .whitespaces)
            return id.isEmpty ? nil : CaseID(Substring(id))
        }
    }

    /// Appends the first case of each failure class not yet listed, with the class as the comment.
    static func record(_ classes: [(key: String, cases: [CaseResult])], to url: URL) throws -> Int {
        let known = Set(read(url))
        var lines: [String] = []
        for c in classes where !c.cases.contains(where: { known.contains($0.spec.id) }) {
            let r = c.cases[0]
            lines.append("\(r.spec.id)  # \(c.key.replacingOccurrences(of: "\n", with: " ").prefix(220)) — \(r.spec.mutation.prefix(160))")
        }
        guard !lines.isEmpty else { return 0 }
        var text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += lines.joined(separator: "\n") + "\n"
        try text.write(to: url, atomically: true, encoding: .utf8)
        return lines.count
    }
}
