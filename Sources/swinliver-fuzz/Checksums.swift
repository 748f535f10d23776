/// CRC-32 (IEEE, as in gzip and PNG) and Adler-32 (zlib), so the harness writes well-formed compressed
/// containers without a compression library.
enum Checksum {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 of `bytes` (continuing from `crc` when given, as PNG chunks need over type + data).
    static func crc32<S: Sequence>(_ bytes: S, crc: UInt32 = 0) -> UInt32 where S.Element == UInt8 {
        var c = ~crc
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return ~c
    }

    /// Adler-32 of `bytes` (the zlib stream trailer).
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in bytes { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        return (b << 16) | a
    }
}
