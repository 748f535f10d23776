/// Compressed containers written with stored (uncompressed) deflate blocks: valid gzip and zlib
/// streams any reader accepts, produced byte for byte the same on every machine.
enum Container {
    /// Raw deflate data as stored blocks of at most 65,535 bytes.
    static func deflateStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        repeat {
            let n = min(65_535, data.count - start)
            let last: UInt8 = start + n >= data.count ? 1 : 0
            out.append(last)
            out += le16(UInt16(n)) + le16(~UInt16(n))
            out += data[start..<start + n]
            start += n
        } while start < data.count
        return out
    }

    /// A gzip member (RFC 1952) holding `data`; mtime 0, so the bytes depend on the data only.
    static func gzip(_ data: [UInt8]) -> [UInt8] {
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3] + deflateStored(data) + le32(Checksum.crc32(data)) + le32(UInt32(truncatingIfNeeded: data.count))
    }

    /// A zlib stream (RFC 1950) holding `data` (PNG's IDAT payload).
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        [0x78, 0x01] + deflateStored(data) + be32(Checksum.adler32(data))
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xff) } }
    static func be32(_ v: UInt32) -> [UInt8] { le32(v).reversed() }
}
