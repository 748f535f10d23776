import Foundation

/// A coding path as one would write it: `depths[1]`, `__metadata__.config`.
public func codingPathText(_ keys: [CodingKey]) -> String {
    keys.reduce("") { s, k in k.intValue.map { "\(s)[\($0)]" } ?? (s.isEmpty ? k.stringValue : "\(s).\(k.stringValue)") }
}

extension DecodingError {
    /// The error as one sentence naming the key — "key 'depths[1]' should be an integer" — rather than the
    /// enum dump. Used for safetensors headers, model configs and any JSON a command reads.
    public var plainSentence: String {
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type: return "an integer"
            case is Double.Type, is Float.Type: return "a number"
            case is Bool.Type: return "true or false"
            case is String.Type: return "a string"
            case is [Int].Type: return "a list of integers"
            default: return type is [Any].Type ? "a list" : "an object"
            }
        }
        switch self {
        case .keyNotFound(let key, let c): return "missing key '\(codingPathText(c.codingPath + [key]))'"
        case .typeMismatch(let type, let c):
            return c.codingPath.isEmpty ? "not a JSON \(kind(type) == "an object" ? "object" : kind(type))"
                : "key '\(codingPathText(c.codingPath))' should be \(kind(type))"
        case .valueNotFound(let type, let c): return "key '\(codingPathText(c.codingPath))' is null; it should be \(kind(type))"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not valid JSON" : "key '\(codingPathText(c.codingPath))' has a value out of range or of the wrong kind"
        @unknown default: return "cannot be decoded"
        }
    }
}
