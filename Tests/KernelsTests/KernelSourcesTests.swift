import Foundation
import TestSupport
import XCTest

@testable import Kernels

/// Generated/KernelSources.swift must equal kernels/*.cl (run scripts/embed-kernels after editing).
final class KernelSourcesTests: XCTestCase {
    func testEmbeddedSourcesAreCurrent() throws {
        let dir = Reference.packageRoot.appendingPathComponent("kernels")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".cl") }
        XCTAssertEqual(Set(files.map { String($0.dropLast(3)) }), Set(KernelSources.programs.keys),
                       "kernels/ and the embedded programs differ: run scripts/embed-kernels")
        for f in files {
            let disk = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            XCTAssertEqual(KernelSources.programs[String(f.dropLast(3))].map { $0 + "\n" }, disk,
                           "\(f) changed since it was embedded: run scripts/embed-kernels")
        }
    }

    func testEveryKernelNameExistsInItsProgram() {
        for k in KernelName.allCases {
            let src = KernelSources.programs[k.program] ?? ""
            XCTAssertTrue(src.contains("__kernel void \(k.rawValue)("), "\(k.rawValue) not found in kernels/\(k.program).cl")
        }
    }
}
