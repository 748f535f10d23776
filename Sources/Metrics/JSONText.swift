import Foundation

/// A small JSON writer for metric reports: keys keep the order given, and non-finite numbers are
/// written as the strings "NaN", "Infinity", "-Infinity" (as the reference fixtures do).
public indirect enum JSONValue: Sendable, Equatable {
    case number(Double), integer(Int), string(String), bool(Bool), array([JSONValue]), object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.text() == b.text() }

    public func text(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case let .number(d):
            if d.isNaN { return "\"NaN\"" }
            if d.isInfinite { return d > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
            return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        case let .integer(i): return "\(i)"
        case let .string(s):
            let escaped = s.unicodeScalars.map { c -> String in
                switch c {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                case "\n": return "\\n"
                default: return c.value < 0x20 ? String(format: "\\u%04x", c.value) : String(c)
                }
            }.joined()
            return "\"\(escaped)\""
        case let .bool(b): return b ? "true" : "false"
        case let .array(a):
            if a.isEmpty { return "[]" }
            if a.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                return "[" + a.map { $0.text() }.joined(separator: ", ") + "]"
            }
            return "[\n" + a.map { pad + $0.text(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case let .object(o):
            if o.isEmpty { return "{}" }
            return "{\n" + o.map { pad + JSONValue.string($0.0).text() + ": " + $0.1.text(indent: indent + 1) }
                .joined(separator: ",\n") + "\n\(end)}"
        }
    }
}

extension Estimate {
    public var json: JSONValue { .object([("value", .number(value)), ("ci95", .array([.number(low), .number(high)]))]) }
}
