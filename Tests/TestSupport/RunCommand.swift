import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Runs the package's debug `swinliver` binary; fails the test when it has not been built.
public func runSwinLiver(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let binary = Reference.packageRoot.appendingPathComponent(".build/debug/swinliver")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        XCTFail("\(binary.path) is missing: build the package (make test builds it) before the tests")
        throw CocoaError(.fileNoSuchFile)
    }
    let p = Process()
    p.executableURL = binary
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// A fresh temporary folder for one test.
public func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// True when `data` parses as XML (the SVG plots).
public func isWellFormedXML(_ data: Data) -> Bool { XMLParser(data: data).parse() }

/// (step, loss) from a run's log.jsonl; a step logged twice (re-run after a resume) keeps its last value.
public func loggedLosses(_ log: URL) throws -> [Int: Double] {
    var out: [Int: Double] = [:]
    for line in try String(contentsOf: log, encoding: .utf8).split(separator: "\n") {
        let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        if let s = o?["step"] as? Int, let l = o?["loss"] as? Double, o?["event"] == nil { out[s] = l }
    }
    return out
}

/// Starts `swinliver arguments`, kills it with SIGKILL once `log` holds `steps` losses, and returns whether it was
/// still running then (a run that finished first could not be killed).
public func killSwinLiver(_ arguments: [String], whenLogged steps: Int, in log: URL) throws -> Bool {
    let p = Process()
    p.executableURL = Reference.packageRoot.appendingPathComponent(".build/debug/swinliver")
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(600)
    while Date() < deadline, p.isRunning, ((try? loggedLosses(log).count) ?? 0) < steps { usleep(50_000) }
    let running = p.isRunning
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    return running
}
