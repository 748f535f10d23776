import Foundation
import SafeTensors
import TestSupport
import Volumes
import XCTest

/// NIfTI reading against nibabel (../shared/reference/nifti), writing round trips, and every bad file.
final class NIfTITests: XCTestCase {
    let expectedKey = ["ct.nii": "ct", "ct.nii.gz": "ct", "label.nii": "label", "label.nii.gz": "label",
                       "float_qform_only.nii.gz": "float_qform_only", "float_sform_only.nii.gz": "float_sform_only"]

    func testReadsWhatNibabelReads() throws {
        let dir = try Reference.file("nifti")
        let expected = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("expected.safetensors"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("nifti.json"))) as! [String: Any]
        let files = json["files"] as! [String: [String: Any]]
        XCTAssertEqual(Set(files.keys), Set(expectedKey.keys))
        for (name, info) in files {
            let (v, h) = try NIfTI.read(dir.appendingPathComponent(name))
            XCTAssertEqual(v.shape, info["shape"] as! [Int], name)
            XCTAssertEqual(v.values, try expected.floats(expectedKey[name]!), "\(name): data")
            let tol = (info["sform_code"] as! Int) > 0 ? 1e-6 : 1e-5
            let aff = info["affine"] as! [[Double]]
            for r in 0..<4 { for c in 0..<4 { XCTAssertEqual(v.affine.rows[r][c], aff[r][c], accuracy: tol, "\(name) affine[\(r)][\(c)]") } }
            XCTAssertEqual(v.affine.axisCodes, info["axcodes"] as! [String], name)
            XCTAssertEqual(h.qformCode, info["qform_code"] as! Int, name)
            XCTAssertEqual(h.sformCode, info["sform_code"] as! Int, name)
            let norms = info["affine_column_norms"] as! [Double]
            for a in 0..<3 { XCTAssertEqual(v.spacing[a], norms[a], accuracy: 1e-5, "\(name) spacing") }
            let si = info["slope_inter_applied"] as! [Double]
            XCTAssertEqual(h.slope, si[0], name)
            XCTAssertEqual(h.inter, si[1], name)
        }
    }

    func tmp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("swinliver-nifti-\(getpid())-\(name)")
    }

    func testWriteKeepsDataAndAffine() throws {
        let src = try Reference.file("nifti/ct.nii.gz")
        let (ct, header) = try NIfTI.read(src)
        for (name, type) in [("a.nii.gz", NIfTIDataType.int16), ("b.nii", .float32), ("c.nii.gz", .uint8)] {
            let url = tmp(name)
            defer { try? FileManager.default.removeItem(at: url) }
            var v = ct
            if type == .uint8 { v.values = v.values.map { $0 > 0 ? 2 : 0 } }
            try NIfTI.write(v, to: url, as: type, like: header)
            let (back, h2) = try NIfTI.read(url)
            XCTAssertEqual(back.values, v.values, name)
            XCTAssertEqual(h2.datatype, type, name)
            XCTAssertEqual(h2.sformCode, 1, name)
            for r in 0..<4 { for c in 0..<4 { XCTAssertEqual(back.affine.rows[r][c], ct.affine.rows[r][c], accuracy: 1e-5) } }
            XCTAssertEqual(back.affine.axisCodes, ["L", "P", "S"])
        }
        XCTAssertThrowsError(try NIfTI.write(ct, to: tmp("x.img"))) { XCTAssertTrue("\($0)".contains(".nii")) }
        for name in ["v2.nii.gz", "v2.nii"] {
            let v2 = tmp(name)
            defer { try? FileManager.default.removeItem(at: v2) }
            try NIfTI.write(ct, to: v2, as: .int16, like: header, version: 2)
            let (back2, h2) = try NIfTI.read(v2)
            XCTAssertEqual(h2.version, 2, name)
            XCTAssertEqual(back2.values, ct.values, name)
            for r in 0..<4 { for c in 0..<4 { XCTAssertEqual(back2.affine.rows[r][c], ct.affine.rows[r][c], accuracy: 1e-6) } }
        }
    }

    /// A valid .nii with some header bytes changed.
    func patched(_ name: String, _ patch: (inout Data) -> Void) throws -> URL {
        var d = try Data(contentsOf: try Reference.file("nifti/label.nii"))
        patch(&d)
        let url = tmp(name)
        try d.write(to: url)
        return url
    }

    func assertBad(_ url: URL, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try NIfTI.read(url), line: line) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error) should name the file", line: line)
            XCTAssertTrue("\(error)".contains(expected), "'\(error)' should say '\(expected)'", line: line)
        }
        try? FileManager.default.removeItem(at: url)
    }

    func testBadFilesAreNamedErrors() throws {
        func setInt16(_ d: inout Data, _ offset: Int, _ v: Int16) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { d[offset + i] = b } }
        }
        assertBad(tmp("missing.nii.gz"), "no such file")
        assertBad(try patched("short.nii") { $0 = $0.prefix(100) }, "truncated")
        assertBad(try patched("half.nii") { $0 = $0.prefix($0.count / 2) }, "truncated")
        assertBad(try patched("garbage.nii") { d in for i in 0..<400 { d[i] = UInt8(i % 251) } }, "not a NIfTI")
        assertBad(try patched("4d.nii") { d in setInt16(&d, 40, 4); setInt16(&d, 48, 2) }, "not a 3D image")
        assertBad(try patched("rgb.nii") { d in setInt16(&d, 70, 128); setInt16(&d, 72, 24) }, "unsupported datatype")
        assertBad(try patched("huge.nii") { d in setInt16(&d, 42, 32000); setInt16(&d, 44, 32000); setInt16(&d, 46, 32000) }, "absurd dimensions")
        let gz = try Data(contentsOf: try Reference.file("nifti/ct.nii.gz"))
        let cut = tmp("cut.nii.gz")
        try gz.prefix(gz.count / 2).write(to: cut)
        assertBad(cut, "truncated")
        var v = try NIfTI.read(try Reference.file("nifti/float_qform_only.nii.gz")).volume
        v.values[5] = .nan
        v.values[7] = .infinity
        let nan = tmp("nan.nii.gz")
        try NIfTI.write(v, to: nan)
        assertBad(nan, "2 NaN or infinite")
    }

    func testSingleVolume4DIsAccepted() throws {
        let url = try patched("4d1.nii") { d in
            withUnsafeBytes(of: Int16(4).littleEndian) { for (i, b) in $0.enumerated() { d[40 + i] = b } }
        }
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try NIfTI.read(url).volume.shape, [40, 36, 24])
    }

    func testRealScansLoad() throws {
        let real = Reference.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/real")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: real.path).filter({ $0.hasSuffix(".nii.gz") }),
              !names.isEmpty else { throw XCTSkip("no real scans at \(real.path)") }
        for n in names {
            let (v, _) = try NIfTI.read(real.appendingPathComponent(n))
            XCTAssertEqual(v.shape.count, 3, n)
            XCTAssertTrue(v.spacing.allSatisfy { $0 > 0.1 && $0 < 10 }, "\(n) spacing \(v.spacing)")
        }
    }

    func testImageAndLabelMustShareTheGrid() throws {
        let ct = try NIfTI.read(try Reference.file("nifti/ct.nii")).volume
        let label = try NIfTI.read(try Reference.file("nifti/label.nii")).volume
        XCTAssertNoThrow(try NIfTI.checkPair(image: ct, imageFile: "ct.nii", label: label, labelFile: "label.nii"))
        let other = try NIfTI.read(try Reference.file("nifti/float_qform_only.nii.gz")).volume
        XCTAssertThrowsError(try NIfTI.checkPair(image: ct, imageFile: "ct.nii", label: other, labelFile: "q.nii.gz")) {
            XCTAssertTrue("\($0)".contains("q.nii.gz") && "\($0)".contains("ct.nii") && "\($0)".contains("shape"))
        }
        var moved = label
        moved.affine.rows[0][3] += 1
        XCTAssertThrowsError(try NIfTI.checkPair(image: ct, imageFile: "ct.nii", label: moved, labelFile: "m.nii")) {
            XCTAssertTrue("\($0)".contains("affine"))
        }
    }
}
