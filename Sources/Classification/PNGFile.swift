import CPNG
import Foundation

/// Lossless PNG files through libpng.
public enum PNGFile {
    /// Values in [0, 1] (clamped) as a 16-bit grayscale PNG (rounded to 0...65535), rows × columns.
    public static func writeGray16(_ values: [Float], width: Int, height: Int, to url: URL) throws {
        guard values.count == width * height else { throw SliceError(problem: "\(url.path): \(values.count) values for \(width)×\(height)") }
        let samples = values.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
        try call(url) { cpng_write_gray(url.path, UInt32(width), UInt32(height), 16, samples, $0, $1) }
    }

    /// An 8-bit RGB image (RGBRGB…, rows × columns).
    public static func writeRGB(_ rgb: [UInt8], width: Int, height: Int, to url: URL) throws {
        guard rgb.count == 3 * width * height else { throw SliceError(problem: "\(url.path): \(rgb.count) bytes for \(width)×\(height) RGB") }
        try call(url) { cpng_write_rgb8(url.path, UInt32(width), UInt32(height), rgb, $0, $1) }
    }

    /// A grayscale PNG's samples (widened to 16 bits), width, height and bit depth.
    public static func readGray(_ url: URL) throws -> (samples: [UInt16], width: Int, height: Int, bitDepth: Int) {
        var w: UInt32 = 0, h: UInt32 = 0, depth: Int32 = 0
        try call(url) { cpng_read_gray(url.path, &w, &h, &depth, nil, 0, $0, $1) }
        var samples = [UInt16](repeating: 0, count: Int(w) * Int(h))
        try call(url) { cpng_read_gray(url.path, &w, &h, &depth, &samples, samples.count, $0, $1) }
        return (samples, Int(w), Int(h), Int(depth))
    }

    private static func call(_ url: URL, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var error = [CChar](repeating: 0, count: 512)
        let status = error.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        if status != 0 {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw SliceError(problem: message.isEmpty ? "\(url.path): PNG error" : message)
        }
    }
}
