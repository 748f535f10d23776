import Foundation
import SeededRandom

/// Seeded mutations of seed files. Each one appends a short description to `log`, so a case says
/// what was done to its input ("nifti1 dim[0]=9; truncate 352→120").
struct Mutator {
    var rng: SplitMix64
    var log: [String] = []

    init(rng: SplitMix64) { self.rng = rng }

    mutating func pick<T>(_ options: [T]) -> T { options[rng.below(options.count)] }
    mutating func note(_ s: String) { log.append(s) }

    // MARK: edge values

    static let edgeIntegers: [Int64] = [0, -1, 1, 2, 3, 7, 8, 9, 255, 256, 1000, 32767, -32768, 65535, 65536, 1 << 31, (1 << 31) - 1,
                                        -(1 << 31), 1 << 32, 1 << 40, 1 << 62, Int64.max, Int64.min, 46341, 100_000]
    static let edgeDoubles: [Double] = [0, -0.0, .nan, .infinity, -.infinity, 1e-300, -1e-300, 1e-45, 1e-38, 3.4e38, 1e300,
                                        -1, 1e-30, 1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.5, 1e9]

    /// An edge value for one field element; `dim` fields also get ranks 8…1000 and huge extents.
    mutating func edgeValue(for field: HeaderField, index: Int) -> (int: Int64?, double: Double?) {
        switch field.kind {
        case .f32, .f64:
            return rng.chance(0.15) ? (pick(Mutator.edgeIntegers), nil) : (nil, pick(Mutator.edgeDoubles))
        default:
            if field.name == "dim" && index == 0 && rng.chance(0.5) { return (Int64(pick([0, -1, 8, 9, 10, 16, 100, 255, 1000, 32767])), nil) }
            if field.name == "datatype" && rng.chance(0.6) {
                return (Int64(pick([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 255, -1, 32767])), nil)
            }
            return (pick(Mutator.edgeIntegers), nil)
        }
    }

    /// Overwrites one element of one field of `layout` with an edge value.
    mutating func overwriteField(_ bytes: inout [UInt8], layout: [HeaderField], tag: String) {
        let f = pick(layout), i = rng.below(f.count)
        let (iv, dv) = edgeValue(for: f, index: i)
        let off = f.offset + i * f.kind.size
        if let iv { bytes.put(f.kind, at: off, int: iv); note("\(tag) \(f.name)[\(i)]=\(iv)") }
        if let dv { bytes.put(f.kind, at: off, double: dv); note("\(tag) \(f.name)[\(i)]=\(dv)") }
    }

    /// Sets the spatial extents to huge values while the file stays tiny (readers must not trust them).
    mutating func hugeDims(_ bytes: inout [UInt8], version: Int) {
        let big: [Int64] = version == 1 ? [32767, 30000, 20000, 4096, 65535] : [32767, 1 << 20, 1 << 31, 1 << 40, 1 << 62, 100_000]
        let dims = (0..<3).map { _ in pick(big) }
        let kind: FieldKind = version == 1 ? .i16 : .i64, base = version == 1 ? 42 : 24
        for (n, d) in dims.enumerated() { bytes.put(kind, at: base + kind.size * n, int: d) }
        note("nifti\(version) huge dims \(dims.map(String.init).joined(separator: "×"))")
    }

    // MARK: byte mutations

    /// One to four generic byte-level mutations (bit flips, edge bytes, truncation, insertion,
    /// deletion, duplication), focused on the first `hot` bytes (the header) half of the time.
    mutating func bytes(_ b: inout [UInt8], hot: Int = 0) {
        for _ in 0..<(1 + rng.below(3)) {
            let limit = hot > 0 && rng.chance(0.5) ? min(hot, b.count) : b.count
            guard limit > 0 else { b = [UInt8](repeating: pick([0, 0xff]), count: 1 + rng.below(64)); note("replace empty"); return }
            switch rng.below(7) {
            case 0:
                let n = 1 + rng.below(8)
                for _ in 0..<n { let p = rng.below(limit); b[p] ^= UInt8(1 << rng.below(8)) }
                note("flip \(n) bits <\(limit)")
            case 1:
                let p = rng.below(limit), v = pick([0, 0xff, 0x7f, 0x80, 0x01, 0xfe] as [UInt8])
                b[p] = v; note("byte[\(p)]=\(v)")
            case 2:
                let n = rng.chance(0.3) ? rng.below(min(b.count, 600)) : rng.below(b.count)
                note("truncate \(b.count)→\(n)"); b.removeSubrange(n...)
                if b.isEmpty { return }
            case 3:
                let p = rng.below(limit + 1), n = 1 + rng.below(64)
                b.insert(contentsOf: (0..<n).map { _ in UInt8(rng.below(256)) }, at: p); note("insert \(n)@\(p)")
            case 4:
                let p = rng.below(limit), n = min(1 + rng.below(64), b.count - p)
                b.removeSubrange(p..<p + n); note("delete \(n)@\(p)")
            case 5:
                let p = rng.below(limit), n = min(1 + rng.below(256), b.count - p)
                let piece = Array(b[p..<p + n]); b.insert(contentsOf: piece, at: rng.below(b.count + 1)); note("duplicate \(n)@\(p)")
            default:
                let p = rng.below(limit), w = pick([2, 4, 8])
                let v = pick(Mutator.edgeIntegers)
                b.putBits(UInt64(bitPattern: v), size: w, at: p); note("int\(w * 8)[\(p)]=\(v)")
            }
        }
    }

    // MARK: text mutations

    static let edgeTokens = ["nan", "NaN", "inf", "-inf", "-1", "0", "1e308", "-1e308", "1e-320", "9223372036854775807",
                             "-9223372036854775808", "18446744073709551616", "", " ", "\"", "\"\"", ",", ",,,,", "0x10", "1,5",
                             "HCC", "ICC", "CRLM", "hcc", "XXX", "../../etc/passwd", "/", ".", "..", "/dev/zero", "/dev/urandom",
                             String(repeating: "A", count: 5000), "é😀\u{0}", "\u{feff}", "\r", "1.5", "2", "3", "P1", "P2"]

    /// Field- and line-level edits of CSV or JSON text, then sometimes a byte mutation.
    mutating func text(_ s: String) -> [UInt8] {
        var lines = s.components(separatedBy: "\n")
        for _ in 0..<(1 + rng.below(2)) {
            let li = rng.below(lines.count)
            switch rng.below(8) {
            case 0, 1, 2:
                var fields = lines[li].components(separatedBy: ",")
                let fi = rng.below(fields.count), tok = pick(Mutator.edgeTokens)
                fields[fi] = tok; lines[li] = fields.joined(separator: ",")
                note("line \(li) field \(fi)=\(tok.prefix(24).debugDescription)")
            case 3: lines.remove(at: li); note("delete line \(li)"); if lines.isEmpty { lines = [""] }
            case 4: lines.insert(lines[li], at: li); note("duplicate line \(li)")
            case 5:
                let extra = (0..<(1 + rng.below(4))).map { _ in pick(Mutator.edgeTokens) }
                lines[li] += "," + extra.joined(separator: ","); note("line \(li) +\(extra.count) fields")
            case 6: lines = Array(repeating: lines[min(1, lines.count - 1)], count: 1 + rng.below(3000)); note("\(lines.count) copies of a row")
            default:
                // Replace a number anywhere in the text (JSON values, CSV cells) by an edge token.
                let joined = lines.joined(separator: "\n")
                let nums = numberRanges(in: joined)
                if let r = nums.isEmpty ? nil : pick(nums) {
                    let tok = pick(["-1", "0", "1e308", "nan", "9223372036854775807", "-9223372036854775808", "1e999", "4611686018427387904", "1.5", "\"x\"", "null", "[]", "{}"])
                    lines = (joined.prefix(r.lowerBound) + tok + joined.suffix(joined.count - r.upperBound)).components(separatedBy: "\n")
                    note("number@\(r.lowerBound)=\(tok)")
                }
            }
        }
        var b = Array(lines.joined(separator: pick(["\n", "\n", "\n", "\r\n", "\r"])).utf8)
        if rng.chance(0.25) { bytes(&b) }
        return b
    }

    /// Character ranges of the decimal numbers in `s`.
    func numberRanges(in s: String) -> [Range<Int>] {
        var out: [Range<Int>] = [], start: Int? = nil
        for (i, c) in s.enumerated() {
            let digit = c.isASCII && (c.isNumber || c == "." || c == "-")
            if digit, start == nil { start = i }
            if !digit, let s0 = start { out.append(s0..<i); start = nil }
        }
        if let s0 = start { out.append(s0..<s.count) }
        return out
    }

    // MARK: safetensors

    /// Mutates a safetensors file's JSON header (a number, a dtype, the length field) and keeps the data,
    /// or applies byte mutations to the header region.
    mutating func safetensors(_ file: [UInt8]) -> [UInt8] {
        guard file.count >= 8 else { var b = file; bytes(&b); return b }
        let n = Int(file[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        guard n <= file.count - 8 else { var b = file; bytes(&b); return b }
        let header = String(decoding: file[8..<8 + n], as: UTF8.self), data = Array(file[(8 + n)...])
        switch rng.below(6) {
        case 0:
            var b = file
            b.putBits(UInt64(bitPattern: pick(Mutator.edgeIntegers + [Int64(n + 1), Int64(n - 1), Int64(file.count)])), size: 8, at: 0)
            note("safetensors header length=\(Int64(bitPattern: UInt64(b[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })))")
            return b
        case 1, 2:
            let nums = numberRanges(in: header)
            guard let r = nums.isEmpty ? nil : pick(nums) else { fallthrough }
            let tok = pick(["-1", "0", "1", "4611686018427387904", "9223372036854775807", "18446744073709551615", "2147483648",
                            "1e308", "1.5", "100000", "3037000500", "65536", "-9223372036854775808", "999999999999999999999"])
            let h = header.prefix(r.lowerBound) + tok + header.suffix(header.count - r.upperBound)
            note("safetensors header number@\(r.lowerBound) \(header.dropFirst(r.lowerBound).prefix(r.count))→\(tok)")
            return withHeader(String(h), data)
        case 3:
            let dtypes = ["\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I64\"", "\"U8\"", "\"BOOL\"", "\"F8_E4M3\"", "\"XYZ\"", "\"\"", "7", "null"]
            let occurrences = header.ranges(of: "\"dtype\":")
            guard let r = occurrences.isEmpty ? nil : pick(occurrences) else { fallthrough }
            let after = header[r.upperBound...]
            guard let end = after.firstIndex(where: { $0 == "," || $0 == "}" }) else { fallthrough }
            let d = pick(dtypes)
            note("safetensors dtype \(header[r.upperBound..<end])→\(d)")
            return withHeader(String(header[..<r.upperBound]) + d + String(header[end...]), data)
        case 4:
            let t = text(header)
            note("safetensors header text")
            return withHeader(String(decoding: t, as: UTF8.self), data)
        default:
            var b = file
            bytes(&b, hot: 8 + n)
            return b
        }
    }

    private func withHeader(_ header: String, _ data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8((UInt64(h.count) >> (8 * UInt64($0))) & 0xff) } + h + data
    }

    // MARK: PNG

    /// Mutates a PNG: IHDR fields (width, height, bit depth, colour type, interlace) or the image data
    /// with valid CRCs (reaches the decoder), chunk order, or raw bytes (CRC errors).
    mutating func png(_ chunks: [(String, [UInt8])]) -> [UInt8] {
        var c = chunks
        switch rng.below(6) {
        case 0, 1:
            var ihdr = c[0].1
            switch rng.below(4) {
            case 0, 1:
                let w = pick([0, 1, 2, 65535, 65536, 46341, 100_000, 1 << 30, (1 << 31) - 1, 0xffff_ffff] as [UInt32])
                let side = rng.below(3)
                if side != 1 { ihdr.replaceSubrange(0..<4, with: Container.be32(w)) }
                if side != 0 { ihdr.replaceSubrange(4..<8, with: Container.be32(w)) }
                note("png \(["width", "height", "width+height"][side])=\(w)")
            case 2:
                let d = pick([0, 1, 2, 3, 4, 8, 16, 32, 255] as [UInt8]); ihdr[8] = d; note("png bit depth=\(d)")
            default:
                let t = pick([0, 2, 3, 4, 6, 1, 7, 255] as [UInt8]); ihdr[9] = t
                if rng.chance(0.5) { ihdr[12] = pick([1, 2]); note("png interlace=\(ihdr[12])") }
                note("png colour type=\(t)")
            }
            c[0].1 = ihdr
        case 2:
            // Corrupt the filtered scanlines inside a valid zlib stream (filter bytes, samples).
            var idat = c[1].1
            var raw = Array(idat.dropFirst(2 + 5).dropLast(4))
            if rng.chance(0.5), !raw.isEmpty { raw[0] = pick([5, 6, 255, 4, 3]); note("png filter byte=\(raw[0])") } else { bytes(&raw) }
            idat = Container.zlib(raw)
            c[1].1 = idat
        case 3:
            switch rng.below(4) {
            case 0: c.swapAt(0, 1); note("png IDAT before IHDR")
            case 1: c.remove(at: 1); note("png no IDAT")
            case 2: c.insert(("IDAT", c[1].1), at: 2); note("png IDAT twice")
            default: c.insert((pick(["PLTE", "tRNS", "zTXt", "iCCP", "sBIT", "acTL"]), (0..<rng.below(40)).map { _ in UInt8(rng.below(256)) }), at: 1)
                note("png extra chunk \(c[1].0)")
            }
        case 4:
            var idat = c[1].1
            bytes(&idat); c[1].1 = idat; note("png IDAT zlib bytes")
        default:
            var b = Seeds.png(c)
            bytes(&b, hot: 33)
            return b
        }
        return Seeds.png(c)
    }
}
