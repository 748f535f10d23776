import Classification
import Foundation
import TestSupport
import XCTest

/// PNG reading and writing under hostile input: interlaced files, declared sizes, NaN pixels, failed writes.
final class PNGFileTests: XCTestCase {
    /// An Adam7-interlaced file decodes to the same samples as its non-interlaced twin (the reader used to
    /// take the first pass's rows for the image: 4,082 of 4,096 pixels wrong).
    func testInterlacedMatchesItsTwin() throws {
        let dir = try temporaryFolder("png-interlace")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (w, h) = (64, 64)
        let values: [Float] = (0..<(w * h)).map { Float(($0 * 7919) % 65536) / 65535 }
        let plain = dir.appendingPathComponent("plain.png"), adam7 = dir.appendingPathComponent("adam7.png")
        try PNGFile.writeGray16(values, width: w, height: h, to: plain)
        try PNGFile.writeGray16(values, width: w, height: h, to: adam7, interlaced: true)
        XCTAssertNotEqual(try Data(contentsOf: plain), try Data(contentsOf: adam7), "the twin must really be interlaced")
        XCTAssertEqual(try Data(contentsOf: adam7)[28], 1, "IHDR interlace method")
        let a = try PNGFile.readGray(plain), b = try PNGFile.readGray(adam7)
        XCTAssertEqual(a.samples.count, w * h)
        XCTAssertEqual(b.samples, a.samples)
        XCTAssertEqual(a.samples, values.map { UInt16(($0 * 65535).rounded()) })
    }

    /// A ~70-byte file declaring 65535 × 65535 pixels is refused before the image is allocated.
    func testDeclaredGiantImageIsRefusedBeforeAllocating() throws {
        let dir = try temporaryFolder("png-giant")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("giant.png")
        try PNGFile.writeGray16([0.5], width: 1, height: 1, to: url)
        var d = try Data(contentsOf: url)
        // IHDR data starts at byte 16: width, height (big-endian), then its CRC over type + data at 29.
        for (offset, v) in [(16, UInt32(65535)), (20, UInt32(65535))] { for i in 0..<4 { d[offset + i] = UInt8((v >> (24 - 8 * UInt32(i))) & 0xff) } }
        let crc = crc32(d[12..<29])
        for i in 0..<4 { d[29 + i] = UInt8((crc >> (24 - 8 * UInt32(i))) & 0xff) }
        try d.write(to: url)
        XCTAssertLessThan(d.count, 100)
        XCTAssertThrowsError(try PNGFile.readGray(url)) { error in
            XCTAssertTrue("\(error)".contains("giant.png") && "\(error)".contains("65535 × 65535"), "\(error)")
        }
    }

    func testNaNPixelsAreAnErrorAndWritesAreAtomic() throws {
        let dir = try temporaryFolder("png-nan")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("s.png")
        try PNGFile.writeGray16([0, 0.5, 1, 0.25], width: 2, height: 2, to: url)
        let before = try Data(contentsOf: url)
        XCTAssertThrowsError(try PNGFile.writeGray16([0, .nan, 1, 0.25], width: 2, height: 2, to: url)) { error in
            XCTAssertTrue("\(error)".contains("s.png") && "\(error)".contains("NaN"), "\(error)")
        }
        // ±inf clamp like any out-of-range value
        try PNGFile.writeGray16([-.infinity, 0.5, .infinity, 0.25], width: 2, height: 2, to: dir.appendingPathComponent("inf.png"))
        XCTAssertEqual(try PNGFile.readGray(dir.appendingPathComponent("inf.png")).samples, [0, 32768, 65535, 16384])
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["inf.png", "s.png"])
    }

    /// CRC-32 (PNG's chunk checksum).
    func crc32(_ bytes: Data) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xffff_ffff
    }
}
