import AtomicFile
import CPNG
import Foundation

/// Lossless PNG files through libpng. Writes go to a temporary file that is fsynced and renamed over the
/// target, so a failed write never leaves a torn image; reads check the declared size before allocating.
public enum PNGFile {
    /// Images with more pixels than this are refused before any allocation (a classifier slice is 299²).
    public static let maxPixels = 4096 * 4096

    /// Values in [0, 1] (clamped) as a 16-bit grayscale PNG (rounded to 0...65535), rows × columns;
    /// Adam7-interlaced when asked. NaN values are an error naming the file.
    public static func writeGray16(_ values: [Float], width: Int, height: Int, to url: URL, interlaced: Bool = false) throws {
        try checkSize(width: width, height: height, url)
        guard values.count == width * height else { throw SliceError(problem: "\(url.path): \(values.count) values for \(width)×\(height)") }
        if let bad = values.firstIndex(where: \.isNaN) {
            throw SliceError(problem: "\(url.path): pixel \(bad) is NaN (the image's intensities are not finite); nothing written")
        }
        let samples = values.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
        try atomically(url) { path, e, n in cpng_write_gray(path, UInt32(width), UInt32(height), 16, interlaced ? 1 : 0, samples, e, n) }
    }

    /// An 8-bit RGB image (RGBRGB…, rows × columns).
    public static func writeRGB(_ rgb: [UInt8], width: Int, height: Int, to url: URL) throws {
        try checkSize(width: width, height: height, url)
        guard rgb.count == 3 * width * height else { throw SliceError(problem: "\(url.path): \(rgb.count) bytes for \(width)×\(height) RGB") }
        try atomically(url) { path, e, n in cpng_write_rgb8(path, UInt32(width), UInt32(height), rgb, e, n) }
    }

    /// A grayscale PNG's samples (widened to 16 bits), width, height and bit depth; interlaced files too.
    public static func readGray(_ url: URL) throws -> (samples: [UInt16], width: Int, height: Int, bitDepth: Int) {
        var w: UInt32 = 0, h: UInt32 = 0, depth: Int32 = 0
        try call(url) { cpng_read_gray(url.path, &w, &h, &depth, nil, 0, $0, $1) }
        try checkSize(width: Int(w), height: Int(h), url)
        var samples = [UInt16](repeating: 0, count: Int(w) * Int(h))
        try call(url) { cpng_read_gray(url.path, &w, &h, &depth, &samples, samples.count, $0, $1) }
        return (samples, Int(w), Int(h), Int(depth))
    }

    private static func checkSize(width: Int, height: Int, _ url: URL) throws {
        guard width >= 1, height >= 1, width <= maxPixels / height else {
            throw SliceError(problem: "\(url.path): \(width) × \(height) pixels is outside 1 … \(maxPixels) pixels")
        }
    }

    /// Writes through `body` to a temporary name beside `url`, then renames it over `url`.
    private static func atomically(_ url: URL, _ body: (String, UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        let tmp = URL(fileURLWithPath: temporaryPath(beside: url.path))
        do {
            try call(url) { body(tmp.path, $0, $1) }
            try commitTemporaryFile(tmp.path, to: url.path)
        } catch let error as SliceError {
            try? FileManager.default.removeItem(at: tmp)
            throw SliceError(problem: error.problem.replacingOccurrences(of: tmp.path, with: url.path))
        }
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
