import AtomicFile
import Foundation

/// Errors reading or writing a safetensors file; each names the file (and tensor) concerned.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}

/// Element types of the safetensors format.
public enum DType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

    public var byteSize: Int {
        switch self {
        case .F64, .I64: 8
        case .F32, .I32: 4
        case .F16, .BF16, .I16: 2
        case .I8, .U8, .BOOL: 1
        }
    }
}

/// One tensor's header entry.
public struct TensorInfo: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    /// Byte range inside the data section.
    public let range: Range<Int>
    public var count: Int { shape.reduce(1, *) }
}

/// A safetensors file: 8-byte little-endian header length, a JSON header, raw little-endian data.
/// Every offset, size, dtype and shape is checked against the file before any tensor is read, so a
/// corrupt or hostile header is an error, never a crash or a huge allocation.
public struct SafeTensorsFile {
    public let name: String
    public let metadata: [String: String]
    public let tensors: [String: TensorInfo]
    /// Tensor names in data order.
    public let keys: [String]
    private let data: Data
    private let dataStart: Int

    /// Headers larger than this are rejected (the format's reference implementation uses 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SafeTensorsError(file: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        try self.init(data: data, name: url.path)
    }

    public init(data: Data, name: String) throws {
        func fail(_ p: String) -> SafeTensorsError { SafeTensorsError(file: name, problem: p) }
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, no header length") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { acc, e in acc | UInt64(e.element) << (8 * UInt64(e.offset)) }
        guard n <= UInt64(Self.maxHeaderBytes) else { throw fail("header length \(n) exceeds \(Self.maxHeaderBytes) bytes") }
        guard Int(n) <= data.count - 8 else { throw fail("truncated: header of \(n) bytes but file has \(data.count)") }
        let headerData = data.subdata(in: data.startIndex + 8 ..< data.startIndex + 8 + Int(n))
        if let key = Self.duplicateKey(in: [UInt8](headerData)) { throw fail("the header holds the key \(key) twice") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: headerData) } catch let error as DecodingError {
            throw fail("invalid header: \(error.plainSentence)")
        } catch {
            throw fail("header is not a JSON object")
        }
        let dataStart = 8 + Int(n)
        let dataBytes = data.count - dataStart
        var tensors: [String: TensorInfo] = [:]
        for (key, e) in header.entries {
            guard let dtype = DType(rawValue: e.dtype) else { throw fail("tensor \(key): unsupported dtype \(e.dtype)") }
            func whole(_ v: [Double]) -> [Int]? {
                v.allSatisfy { $0 >= 0 && $0 < 0x1p53 && $0 == $0.rounded() } ? v.map { Int($0) } : nil
            }
            guard e.dataOffsets.count == 2, let offs = whole(e.dataOffsets), let shape = whole(e.shape) else {
                throw fail("tensor \(key): bad shape \(e.shape) or data_offsets \(e.dataOffsets) (non-negative whole numbers)")
            }
            var count = 1
            for d in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("tensor \(key): shape \(shape) overflows") }
                count = p
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, offs[0] <= offs[1], offs[1] <= dataBytes else {
                throw fail("tensor \(key): data_offsets \(offs) outside the \(dataBytes)-byte data section")
            }
            guard offs[1] - offs[0] == bytes else {
                throw fail("tensor \(key): \(offs[1] - offs[0]) bytes for \(dtype.rawValue) \(shape) (needs \(bytes))")
            }
            tensors[key] = TensorInfo(dtype: dtype, shape: shape, range: offs[0]..<offs[1])
        }
        // As the reference implementation: the tensors tile the data section exactly, in order, with no
        // gap, overlap or trailing byte.
        let ordered = tensors.sorted { ($0.value.range.lowerBound, $0.value.range.upperBound, $0.key) < ($1.value.range.lowerBound, $1.value.range.upperBound, $1.key) }
        var end = 0
        for (key, t) in ordered {
            guard t.range.lowerBound == end else {
                throw fail(t.range.lowerBound > end ? "a hole of \(t.range.lowerBound - end) bytes before tensor \(key) in the data section"
                                                    : "tensor \(key) overlaps the tensor before it")
            }
            end = t.range.upperBound
        }
        guard end == dataBytes else { throw fail("\(dataBytes - end) bytes after the last tensor (the data section must end with it)") }
        let meta = header.metadata
        self.name = name
        self.metadata = meta
        self.tensors = tensors
        self.keys = ordered.map(\.key)
        self.data = data
        self.dataStart = dataStart
    }

    /// The JSON header: `__metadata__` (strings only) and one entry per tensor; integers must be integers.
    private struct Header: Decodable {
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]

        /// Numbers decode as Double (Foundation reports 1.5-for-an-Int without saying where), then are
        /// checked to be whole in `SafeTensorsFile.init`.
        struct Entry: Decodable {
            let dtype: String
            let shape: [Double]
            let dataOffsets: [Double]
            enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" { metadata = try c.decode([String: String].self, forKey: key) }
                else { entries[key.stringValue] = try c.decode(Entry.self, forKey: key) }
            }
        }
    }

    /// The first key that appears twice in one JSON object of `json` (JSON decoders keep one silently).
    static func duplicateKey(in json: [UInt8]) -> String? {
        var objects: [Set<ArraySlice<UInt8>>?] = []   // nil for an array
        var expectKey = false
        var i = 0
        while i < json.count {
            switch json[i] {
            case UInt8(ascii: "\""):
                var j = i + 1
                while j < json.count, json[j] != UInt8(ascii: "\"") { j += json[j] == UInt8(ascii: "\\") ? 2 : 1 }
                let raw = json[min(i + 1, json.count)..<min(j, json.count)]
                if expectKey, let top = objects.indices.last, objects[top] != nil {
                    // Escaped keys ("\u0077" is "w") compare as the decoder will see them.
                    let text = raw.contains(UInt8(ascii: "\\")) ? unescaped(raw) : raw
                    if objects[top]!.insert(text).inserted == false { return String(decoding: text, as: UTF8.self) }
                }
                expectKey = false
                i = j
            case UInt8(ascii: "{"): objects.append([]); expectKey = true
            case UInt8(ascii: "["): objects.append(nil); expectKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = objects.popLast(); expectKey = false
            case UInt8(ascii: ","): expectKey = objects.last.map { $0 != nil } ?? false
            default: break
            }
            i += 1
        }
        return nil
    }

    /// A JSON string's content with its escapes resolved (the raw bytes when it does not decode).
    private static func unescaped(_ raw: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let s = try? JSONDecoder().decode(String.self, from: Data([UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")])) else { return raw }
        return ArraySlice(Array(s.utf8))
    }

    public func info(_ key: String) throws -> TensorInfo {
        guard let t = tensors[key] else { throw SafeTensorsError(file: name, problem: "no tensor named \(key)") }
        return t
    }

    public func shape(_ key: String) throws -> [Int] { try info(key).shape }

    /// The tensor's bytes exactly as stored.
    public func bytes(_ key: String) throws -> Data {
        let t = try info(key)
        let start = data.startIndex + dataStart
        return data.subdata(in: start + t.range.lowerBound ..< start + t.range.upperBound)
    }

    /// Values as Float: F32 as is; F16, BF16, F64 and integer types converted.
    public func floats(_ key: String) throws -> [Float] {
        let t = try info(key)
        let raw = try bytes(key)
        if t.dtype == .F32 && UInt32(littleEndian: 1) == 1 {
            // Little-endian host: the bytes are the values.
            return [Float](unsafeUninitializedCapacity: t.count) { buf, n in
                _ = raw.copyBytes(to: buf)
                n = t.count
            }
        }
        return raw.withUnsafeBytes { p -> [Float] in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T { T(littleEndian: p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            let n = t.count
            switch t.dtype {
            case .F32: return (0..<n).map { Float(bitPattern: load(UInt32.self, $0)) }
            case .F64: return (0..<n).map { Float(Double(bitPattern: load(UInt64.self, $0))) }
            case .F16: return (0..<n).map { halfToFloat(load(UInt16.self, $0)) }
            case .BF16: return (0..<n).map { Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16) }
            case .I64: return (0..<n).map { Float(load(Int64.self, $0)) }
            case .I32: return (0..<n).map { Float(load(Int32.self, $0)) }
            case .I16: return (0..<n).map { Float(load(Int16.self, $0)) }
            case .I8: return (0..<n).map { Float(load(Int8.self, $0)) }
            case .U8, .BOOL: return (0..<n).map { Float(load(UInt8.self, $0)) }
            }
        }
    }

    /// Integer values (I64, I32, I16, I8, U8, BOOL), exactly.
    public func integers(_ key: String) throws -> [Int64] {
        let t = try info(key)
        let raw = try bytes(key)
        return try raw.withUnsafeBytes { p -> [Int64] in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T { T(littleEndian: p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            let n = t.count
            switch t.dtype {
            case .I64: return (0..<n).map { load(Int64.self, $0) }
            case .I32: return (0..<n).map { Int64(load(Int32.self, $0)) }
            case .I16: return (0..<n).map { Int64(load(Int16.self, $0)) }
            case .I8: return (0..<n).map { Int64(load(Int8.self, $0)) }
            case .U8, .BOOL: return (0..<n).map { Int64(load(UInt8.self, $0)) }
            default: throw SafeTensorsError(file: name, problem: "tensor \(key) is \(t.dtype.rawValue), not an integer type")
            }
        }
    }
}

/// Collects tensors and writes a safetensors file atomically (temporary file, fsync, rename).
public struct SafeTensorsWriter {
    public var metadata: [String: String] = [:]
    private var entries: [(name: String, dtype: DType, shape: [Int], bytes: Data)] = []

    public init() {}

    /// Adds Float values stored as F32, F16 or BF16 (round to nearest even).
    public mutating func add(_ name: String, _ values: [Float], shape: [Int], as dtype: DType = .F32) throws {
        guard values.count == shape.reduce(1, *) else {
            throw SafeTensorsError(file: name, problem: "\(values.count) values for shape \(shape)")
        }
        var d = Data(capacity: values.count * dtype.byteSize)
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        switch dtype {
        case .F32:
            #if _endian(little)
            values.withUnsafeBytes { d.append(contentsOf: $0) }   // the bytes as they are: one copy
            #else
            for v in values { append(v.bitPattern) }
            #endif
        case .F16: for v in values { append(floatToHalf(v)) }
        case .BF16: for v in values { append(floatToBFloat16(v)) }
        default: throw SafeTensorsError(file: name, problem: "writing Float values as \(dtype.rawValue) is not supported")
        }
        try addRaw(name, dtype: dtype, shape: shape, bytes: d)
    }

    /// Adds bytes already in the file's encoding (copies a tensor byte for byte).
    public mutating func addRaw(_ name: String, dtype: DType, shape: [Int], bytes: Data) throws {
        guard name != "__metadata__", !entries.contains(where: { $0.name == name }) else {
            throw SafeTensorsError(file: name, problem: "duplicate or reserved tensor name")
        }
        guard bytes.count == shape.reduce(1, *) * dtype.byteSize else {
            throw SafeTensorsError(file: name, problem: "\(bytes.count) bytes for \(dtype.rawValue) \(shape)")
        }
        entries.append((name, dtype, shape, bytes))
    }

    /// The encoded file.
    public func encoded() throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for e in entries {
            header[e.name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]]
            offset += e.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so data starts 8-byte aligned
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for e in entries { out.append(e.bytes) }
        return out
    }

    public func write(to url: URL) throws {
        try writeAtomically(try encoded(), to: url)
    }
}

func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int((h >> 10) & 0x1f), frac = UInt32(h & 0x3ff)
    if exp == 0 {
        // zero or subnormal: frac · 2^-24
        let v = Float(frac) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (frac << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | frac << 13)
}

func floatToHalf(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    if f.isNaN { return sign | 0x7e00 }
    let a = abs(f)
    if a >= 65520 { return sign | 0x7c00 }  // rounds to infinity
    if a < Float(sign: .plus, exponent: -14, significand: 1) {
        // subnormal: round a / 2^-24 to nearest even
        let q = (a * Float(sign: .plus, exponent: 24, significand: 1)).rounded(.toNearestOrEven)
        return sign | UInt16(q)
    }
    let e = Int((bits >> 23) & 0xff) - 127 + 15
    var m = bits & 0x7f_ffff
    var exp = UInt32(e)
    // round mantissa 23 → 10 bits, nearest even
    let rest = m & 0x1fff
    m >>= 13
    if rest > 0x1000 || (rest == 0x1000 && (m & 1) == 1) {
        m += 1
        if m == 0x400 { m = 0; exp += 1 }
    }
    return sign | UInt16(exp << 10) | UInt16(m)
}

func floatToBFloat16(_ f: Float) -> UInt16 {
    if f.isNaN { return UInt16(f.bitPattern >> 16) | 0x40 }
    let bits = f.bitPattern
    let rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
    return UInt16(rounded >> 16)
}
