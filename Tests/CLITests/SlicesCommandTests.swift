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

    /// Patient ids and types name files and CSV fields: traversal, separators and CSV metacharacters are
    /// refused before anything is written, and nothing appears outside --out.
    func testNamesStayInTheirFolder() throws {
        let dir = try temporaryFolder("slices-names")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), out = dir.appendingPathComponent("deep/out")
        XCTAssertEqual(try runSwinLiver(["synth", "--cases", "1", "--in-plane", "64,52", "--out", data.path]).status, 0)
        let ct = data.appendingPathComponent("imagesTr").appendingPathComponent(
            try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("imagesTr").path).sorted()[0])
        let mask = data.appendingPathComponent("labelsTr").appendingPathComponent(ct.lastPathComponent)
        for (option, value) in [("--patient", "../../escape"), ("--patient", "a/b"), ("--patient", "x,y"), ("--patient", "q\"z"),
                                ("--patient", ".hidden"), ("--patient", "line\nbreak"), ("--type", "HCC,ICC"), ("--type", "tumour")] {
            let r = try runSwinLiver(["slices", "--ct", ct.path, "--mask", mask.path, "--out", out.path, option, value])
            XCTAssertEqual(r.status, 64, "\(option) \(value): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(option), "\(option) \(value): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["data"])
        let ok = try runSwinLiver(["slices", "--ct", ct.path, "--mask", mask.path, "--out", out.path, "--patient", "P 001", "--type", "ICC"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let slices = try SliceSet.read(out)
        XCTAssertEqual(slices.map(\.patient), ["P 001"])
        XCTAssertEqual(slices.first?.label, tumourClassNames.firstIndex(of: "ICC"))
        XCTAssertEqual(slices.first?.images.count, 15)
    }

    func testCSVQuotingRoundTrips() {
        let fields = ["plain", "a,b", "say \"hi\"", "", "two\nlines"]
        let line = CSV.line(fields)
        XCTAssertEqual(line, "plain,\"a,b\",\"say \"\"hi\"\"\",,\"two\nlines\"")
        XCTAssertEqual(CSV.fields(Substring(line)), fields)
        XCTAssertNil(CSV.fields("a,\"open"))
    }

    /// Mask values of ±1e30 are refused as "not a label mask" (they trapped in Int()); CT values near
    /// ±Float.greatestFiniteMagnitude give finite slices (their span overflowed a Float into NaN).
    func testExtremeValuesAreErrorsOrFiniteSlices() throws {
        let dir = try temporaryFolder("slices-extreme")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        XCTAssertEqual(try runSwinLiver(["synth", "--cases", "1", "--in-plane", "64,52", "--out", data.path]).status, 0)
        let name = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("imagesTr").path).sorted()[0]
        var (ct, ch) = try NIfTI.read(data.appendingPathComponent("imagesTr").appendingPathComponent(name))
        let (mask, mh) = try NIfTI.read(data.appendingPathComponent("labelsTr").appendingPathComponent(name))
        ct.values = ct.values.enumerated().map { $0.offset % 2 == 0 ? 3e38 : -3e38 }
        let ctURL = dir.appendingPathComponent("ct.nii.gz"), maskURL = dir.appendingPathComponent("mask.nii.gz")
        try NIfTI.write(ct, to: ctURL, as: .float32, like: ch)
        try NIfTI.write(mask, to: maskURL, as: .uint8, like: mh)
        let ok = try runSwinLiver(["slices", "--ct", ctURL.path, "--mask", maskURL.path, "--out", dir.appendingPathComponent("out").path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        var huge = mask
        huge.values = huge.values.map { $0 == 2 ? 1e30 : $0 == 1 ? -1e30 : 0 }
        try NIfTI.write(huge, to: maskURL, as: .float32, like: mh)
        let bad = try runSwinLiver(["slices", "--ct", ctURL.path, "--mask", maskURL.path, "--out", dir.appendingPathComponent("out2").path])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains(maskURL.path) && bad.stderr.contains("not a label mask"), bad.stderr)
    }
}
