import Foundation

/// CSV rows as RFC 4180 writes them: a field holding a comma, quote or line break is quoted, quotes doubled.
public enum CSV {
    public static func line(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",")
    }

    /// The fields of one line (quoted fields unquoted); `nil` when a quote is left open.
    public static func fields(_ line: Substring) -> [String]? {
        var out: [String] = [], field = "", quoted = false, i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if quoted {
                if c == "\"" {
                    let next = line.index(after: i)
                    if next < line.endIndex, line[next] == "\"" { field.append("\""); i = next } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                out.append(field); field = ""
            } else { field.append(c) }
            i = line.index(after: i)
        }
        if quoted { return nil }
        out.append(field)
        return out
    }
}

/// Patient ids and tumour types become file names and CSV fields: they must stay inside their folder and
/// their row.
public enum CaseName {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// `name` when it is 1–128 characters with no path separator, no `..`, no leading dot and no control,
    /// quote or comma character; else an error naming `source` (the option, or the file and line).
    @discardableResult
    public static func check(_ name: String, _ source: String) throws -> String {
        func fail(_ why: String) -> Invalid { Invalid(description: "\(source): '\(name)' \(why)") }
        guard !name.isEmpty, name.count <= 128 else { throw fail("must be 1 to 128 characters") }
        guard !name.contains("/"), !name.contains("\\"), !name.contains("..") else {
            throw fail("must not hold '/', '\\' or '..' (it names files inside the output folder)")
        }
        guard !name.hasPrefix("."), !name.contains(where: \.isNewline),
              !name.unicodeScalars.contains(where: { [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) }),
              !name.contains(","), !name.contains("\"") else {
            throw fail("must not start with '.' or hold control characters, line breaks, commas or quotes")
        }
        return name
    }
}
