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
