import Foundation

/// The scalar kinds of binary header fields (little-endian).
enum FieldKind: Sendable {
    case u8, i16, i32, i64, f32, f64

    var size: Int {
        switch self {
        case .u8: return 1
        case .i16: return 2
        case .i32, .f32: return 4
        case .i64, .f64: return 8
        }
    }
}

/// A named field at a byte offset of a binary header (`count` consecutive values of `kind`).
struct HeaderField: Sendable {
    var name: String
    var offset: Int
    var kind: FieldKind
    var count: Int = 1
}

extension Array where Element == UInt8 {
    /// Writes an integer value of `kind` at `offset` (little-endian, truncating); a no-op past the end.
    mutating func put(_ kind: FieldKind, at offset: Int, int value: Int64) {
        let bits: UInt64
        switch kind {
        case .f32: bits = UInt64(Float(value).bitPattern)
        case .f64: bits = Double(value).bitPattern
        default: bits = UInt64(bitPattern: value)
        }
        putBits(bits, size: kind.size, at: offset)
    }

    /// Writes a floating-point value of `kind` at `offset` (integers kinds get it converted, clamped).
    mutating func put(_ kind: FieldKind, at offset: Int, double value: Double) {
        switch kind {
        case .f32: putBits(UInt64(Float(value).bitPattern), size: 4, at: offset)
        case .f64: putBits(value.bitPattern, size: 8, at: offset)
        default:
            let v = value.isNaN ? 0 : Swift.max(Swift.min(value, 9.2e18), -9.2e18)
            put(kind, at: offset, int: Int64(v))
        }
    }

    mutating func putBits(_ bits: UInt64, size: Int, at offset: Int) {
        for i in 0..<size where offset + i >= 0 && offset + i < count { self[offset + i] = UInt8((bits >> (8 * UInt64(i))) & 0xff) }
    }

    /// ASCII text at `offset` (no terminator added).
    mutating func put(ascii text: String, at offset: Int) {
        for (i, b) in text.utf8.enumerated() where offset + i < count { self[offset + i] = b }
    }
}

/// Little-endian encodings of value arrays (voxel and tensor data).
enum Encode {
    static func int16(_ v: [Int16]) -> [UInt8] { v.flatMap { Container.le16(UInt16(bitPattern: $0)) } }
    static func float32(_ v: [Float]) -> [UInt8] { v.flatMap { Container.le32($0.bitPattern) } }
    static func float64(_ v: [Double]) -> [UInt8] {
        v.flatMap { d -> [UInt8] in let b = d.bitPattern; return (0..<8).map { UInt8((b >> (8 * UInt64($0))) & 0xff) } }
    }
}
