import Foundation

/// A file that could not be written; the previous file of that name, if any, is left as it was.
public struct FileWriteError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): could not write (\(problem)); any previous file of this name is left as it was" }
}

/// Writes `data` to a temporary file beside `url` (every write checked), fsyncs it, renames it over `url`
/// and fsyncs the folder, so a reader (or a crash, or a full disk) sees either the old file or the complete new one.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let dir = url.deletingLastPathComponent()
    do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
        throw FileWriteError(file: url.path, problem: "cannot create the folder \(dir.path)")
    }
    // Unique per call: two threads writing the same name never share a temporary file.
    let tmp = URL(fileURLWithPath: temporaryPath(beside: url.path))
    func fail(_ what: String) -> FileWriteError {
        let why = String(cString: strerror(errno))
        unlink(tmp.path)
        return FileWriteError(file: url.path, problem: "\(what): \(why)")
    }
    // O_EXCL | O_NOFOLLOW: never write through a file or link already at the temporary name.
    let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644)
    guard fd >= 0 else {
        let e = errno
        throw FileWriteError(file: url.path, problem: "cannot create \(tmp.lastPathComponent): \(String(cString: strerror(e)))")
    }
    let ok = data.withUnsafeBytes { raw -> Bool in
        var done = 0
        while done < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 { if errno == EINTR { continue }; return false }
            done += n
        }
        return true
    }
    if !ok { let e = errno; close(fd); errno = e; throw fail("write") }
    guard close(fd) == 0 else { throw fail("close") }
    try commitTemporaryFile(tmp.path, to: url.path)
}

/// A fresh hidden name in `path`'s folder for writing the file before `commitTemporaryFile`: unique per
/// call (pid and a random number), so two writers of one name never share it; `keeping` ends the name
/// (".nii.gz" for a library that picks its format from the extension).
public func temporaryPath(beside path: String, keeping suffix: String = "") -> String {
    let url = URL(fileURLWithPath: path)
    let stem = suffix.isEmpty ? url.lastPathComponent : String(url.lastPathComponent.dropLast(suffix.count))
    return url.deletingLastPathComponent()
        .appendingPathComponent(".\(stem).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))\(suffix)").path
}

/// Makes a finished temporary file (written by other code, e.g. a C library) the file at `path`: fsync,
/// rename over `path`, fsync the folder. On failure the temporary file is removed and `path` untouched.
public func commitTemporaryFile(_ tmpPath: String, to path: String) throws {
    func fail(_ what: String) -> FileWriteError {
        let why = String(cString: strerror(errno))
        unlink(tmpPath)
        return FileWriteError(file: path, problem: "\(what): \(why)")
    }
    let fd = open(tmpPath, O_RDONLY)
    guard fd >= 0 else { throw fail("reopening the temporary file") }
    let synced = fsync(fd) == 0
    let e = errno
    close(fd)
    errno = e
    guard synced else { throw fail("fsync") }
    guard rename(tmpPath, path) == 0 else { throw fail("rename") }
    let folder = (path as NSString).deletingLastPathComponent
    let dfd = open(folder.isEmpty ? "." : folder, O_RDONLY)
    if dfd >= 0 { _ = fsync(dfd); close(dfd) }
}

extension Data {
    /// `writeAtomically(self, to:)`.
    public func writeAtomically(to url: URL) throws { try AtomicFile.writeAtomically(self, to: url) }
}

extension String {
    /// The text as UTF-8 through `writeAtomically`.
    public func writeAtomically(to url: URL) throws { try AtomicFile.writeAtomically(Data(utf8), to: url) }
}
