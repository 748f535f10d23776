import CZlib
import Foundation

/// A file read through zlib's gz* API: gzip files are inflated, other files pass through unchanged.
/// Every call's result is checked; `finish()` reads to the end of the stream so a gzip file's CRC and
/// length trailer are verified, and tells a truncated stream from a corrupt one.
struct GzipStream {
    let path: String
    private let file: gzFile

    init(path: String) throws {
        self.path = path
        guard let f = gzopen(path, "rb") else {
            throw NIfTIError(file: path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        _ = gzbuffer(f, 1 << 17)
        file = f
    }

    /// Whether the file is a gzip stream (decided by its content, not its name); valid after the first read.
    var isCompressed: Bool { gzdirect(file) == 0 }

    /// Reads up to `count` bytes (fewer only at the end of the stream); throws on a corrupt stream.
    func read(upTo count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try read(into: $0) }
        return Array(out.prefix(n))
    }

    /// Fills `buffer` as far as the stream goes; returns the number of bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let want = UInt32(min(buffer.count - done, 1 << 26))
            let got = gzread(file, buffer.baseAddress! + done, want)
            if got < 0 { throw NIfTIError(file: path, problem: "corrupt compressed data (\(errorText()))") }
            if got == 0 { break }
            done += Int(got)
        }
        return done
    }

    /// Skips `count` bytes; returns how many were there.
    func skip(_ count: Int) throws -> Int {
        var scratch = [UInt8](repeating: 0, count: min(count, 1 << 16))
        var left = count
        while left > 0 {
            let n = try scratch.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<min(left, $0.count)])) }
            if n == 0 { break }
            left -= n
        }
        return count - left
    }

    /// Reads what is left (at most `limit` bytes, else an error) so that zlib checks the gzip trailer:
    /// a stream that ends early is "truncated", a CRC or length mismatch "corrupt".
    func finish(limit: Int) throws {
        var total = 0
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try scratch.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { break }
            total += n
            guard total <= limit else {
                throw NIfTIError(file: path, problem: "more than \(limit) bytes after the image data: not a NIfTI file of this size")
            }
        }
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code == Z_BUF_ERROR { throw NIfTIError(file: path, problem: "truncated: the compressed stream ends early") }
        if code != Z_OK { throw NIfTIError(file: path, problem: "corrupt compressed data (\(errorText()))") }
    }

    private func errorText() -> String {
        var code: Int32 = 0
        guard let text = gzerror(file, &code) else { return "zlib error \(code)" }
        return String(cString: text)
    }

    func close() { gzclose_r(file) }
}
