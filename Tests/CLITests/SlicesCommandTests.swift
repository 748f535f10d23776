import Classification
import Foundation
import TestSupport
import Volumes
import XCTest

/// `swinliver slices --data`: 15 16-bit PNG slices per case with a manifest; cases without a tumour
/// are reported.
final class SlicesCommandTests: XCTestCase {
    func testSlicesFromASyntheticCohort() throws {
        let dir = try temporaryFolder("slices")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), out = dir.appendingPathComponent("slices")
        XCTAssertEqual(try runSwinLiver(["synth", "--cases", "2", "--in-plane", "64,52", "--out", data.path]).status, 0)
        let r = try runSwinLiver(["slices", "--data", data.path, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try String(contentsOf: out.appendingPathComponent("manifest.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "patient,slice,class,file")
        XCTAssertEqual(rows.count, 1 + 2 * 15, "\(rows)")
        XCTAssertTrue(rows[1].contains(",HCC,"), "\(rows[1])")
        let png = try PNGFile.readGray(out.appendingPathComponent(String(rows[1].split(separator: ",")[3])))
        XCTAssertEqual([png.width, png.height, png.bitDepth], [299, 299, 16])
        XCTAssertEqual(png.samples.max(), 65535)
        XCTAssertEqual(png.samples.min(), 0)

        // A mask without tumour is reported, and listed.
        let ct = data.appendingPathComponent("imagesTr").appendingPathComponent(
            try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("imagesTr").path).sorted()[0])
        var (liverOnly, header) = try NIfTI.read(data.appendingPathComponent("labelsTr").appendingPathComponent(ct.lastPathComponent))
        liverOnly.values = liverOnly.values.map { min($0, 1) }
        let mask = dir.appendingPathComponent("liver-only.nii.gz")
        try NIfTI.write(liverOnly, to: mask, as: .uint8, like: header)
        let none = try runSwinLiver(["slices", "--ct", ct.path, "--mask", mask.path, "--out", dir.appendingPathComponent("none").path])
        XCTAssertEqual(none.status, 0, none.stderr)
        XCTAssertTrue(none.stdout.contains("no tumour"), none.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("none/no_tumour.csv").path))
    }
}
