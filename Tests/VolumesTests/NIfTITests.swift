import AtomicFile
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

    /// Every hostile-header class the fuzzing found: refused in Swift with the field named, before libnifti
    /// (whose reader overflows its stack on dim[0] > 7) or any allocation sees it.
    func testHostileHeadersAreRefusedByField() throws {
        func put<T: FixedWidthInteger>(_ d: inout Data, _ offset: Int, _ v: T) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { d[offset + i] = b } }
        }
        func putF(_ d: inout Data, _ offset: Int, _ v: Float) { put(&d, offset, v.bitPattern) }
        func putD(_ d: inout Data, _ offset: Int, _ v: Double) { put(&d, offset, v.bitPattern) }
        // NIfTI-1 (label.nii: qform and sform codes 1)
        assertBad(try patched("dim0.nii") { put(&$0, 40, Int16(8)) }, "dim[0] = 8")
        assertBad(try patched("dim0big.nii") { put(&$0, 40, Int16(1000)) }, "dim[0] = 1000")
        assertBad(try patched("dim0neg.nii") { put(&$0, 40, Int16(-3)) }, "dim[0] = -3")
        assertBad(try patched("dimzero.nii") { put(&$0, 44, Int16(0)) }, "dim[2] = 0")
        assertBad(try patched("dimneg.nii") { put(&$0, 46, Int16(-5)) }, "dim[3] = -5")
        assertBad(try patched("pixnan.nii") { putF(&$0, 80, .nan) }, "invalid voxel size")
        assertBad(try patched("pixneg.nii") { putF(&$0, 84, -1) }, "invalid voxel size")
        assertBad(try patched("pixhuge.nii") { d in put(&d, 254, Int16(0)); putF(&d, 80, 1e30) }, "outside")
        assertBad(try patched("quatnan.nii") { putF(&$0, 260, .nan) }, "quaternion")
        assertBad(try patched("quatlong.nii") { d in putF(&d, 256, 0.9); putF(&d, 260, 0.9) }, "longer than 1")
        assertBad(try patched("srownan.nii") { putF(&$0, 284, .infinity) }, "sform")
        assertBad(try patched("srowzero.nii") { d in for i in 0..<12 { putF(&d, 280 + 4 * i, 0) } }, "singular")
        assertBad(try patched("voxnan.nii") { putF(&$0, 108, .nan) }, "invalid vox_offset")
        assertBad(try patched("voxneg.nii") { putF(&$0, 108, -352) }, "invalid vox_offset")
        assertBad(try patched("voxlow.nii") { putF(&$0, 108, 100) }, "invalid vox_offset")
        assertBad(try patched("voxfar.nii") { putF(&$0, 108, 1e9) }, "truncated")
        assertBad(try patched("inter.nii") { d in putF(&d, 112, 2); putF(&d, 116, .infinity) }, "invalid scl_inter")
        assertBad(try patched("codeneg.nii") { put(&$0, 254, Int16(-2)) }, "sform_code")
        assertBad(try patched("pair.nii") { d in for (i, c) in "ni1\0".utf8.enumerated() { d[344 + i] = c } }, ".hdr/.img pair")
        // NaN slope means "no scaling", as nibabel
        let noScale = try patched("slopenan.nii") { putF(&$0, 112, .nan) }
        defer { try? FileManager.default.removeItem(at: noScale) }
        XCTAssertEqual(try NIfTI.read(noScale).header.slope, 1)

        // NIfTI-2, 64-bit fields
        let (ct, header) = try NIfTI.read(try Reference.file("nifti/ct.nii"))
        let v2 = tmp("v2src.nii")
        defer { try? FileManager.default.removeItem(at: v2) }
        try NIfTI.write(ct, to: v2, as: .int16, like: header, version: 2)
        func patched2(_ name: String, _ patch: (inout Data) -> Void) throws -> URL {
            var d = try Data(contentsOf: v2)
            patch(&d)
            let url = tmp(name)
            try d.write(to: url)
            return url
        }
        assertBad(try patched2("v2dim0.nii") { put(&$0, 16, Int64(1000)) }, "dim[0] = 1000")
        assertBad(try patched2("v2dim0max.nii") { put(&$0, 16, Int64(1) << 31) }, "dim[0] = 2147483648")
        assertBad(try patched2("v2overflow.nii") { d in put(&d, 24, Int64(1) << 40); put(&d, 32, Int64(1) << 40) }, "absurd dimensions")
        assertBad(try patched2("v2voxoff.nii") { put(&$0, 168, Int64.max - 10) }, "invalid vox_offset")
        assertBad(try patched2("v2voxneg.nii") { put(&$0, 168, Int64(-8)) }, "invalid vox_offset")
        assertBad(try patched2("v2inter.nii") { d in putD(&d, 176, 1); putD(&d, 184, -.infinity) }, "invalid scl_inter")
        assertBad(try patched2("v2srow.nii") { putD(&$0, 400, .nan) }, "sform")
        XCTAssertEqual(try NIfTI.read(v2).volume.values, ct.values)
    }

    /// Compressed files: a header promising more than the stream can hold is refused before allocating,
    /// a truncated stream is "truncated", a damaged one (CRC, deflate data) "corrupt".
    func testCompressedStreamsAreCheckedToTheirEnd() throws {
        let (ct, header) = try NIfTI.read(try Reference.file("nifti/ct.nii"))
        let good = tmp("good.nii.gz")
        defer { try? FileManager.default.removeItem(at: good) }
        try NIfTI.write(ct, to: good, as: .int16, like: header)
        let gz = try Data(contentsOf: good)
        let crc = tmp("crc.nii.gz")
        var d = gz
        d[d.count - 6] ^= 0xff                  // the CRC-32 in the gzip trailer
        try d.write(to: crc)
        assertBad(crc, "corrupt")
        let length = tmp("length.nii.gz")
        d = gz
        d[d.count - 2] ^= 0x01                  // ISIZE in the trailer
        try d.write(to: length)
        assertBad(length, "corrupt")
        let cut = tmp("cut-trailer.nii.gz")
        try gz.prefix(gz.count - 4).write(to: cut)
        assertBad(cut, "truncated")
        // A tiny .nii.gz whose header declares 1290³ float32 voxels (8.6 GB): refused by the voxel budget;
        // 700³ (within the budget) by what a gzip file of its size can hold.
        for (n, expected) in [(1290, "absurd dimensions"), (700, "more than a")] {
            var raw = try Data(contentsOf: try Reference.file("nifti/label.nii"))
            withUnsafeBytes(of: Int16(16).littleEndian) { for (i, b) in $0.enumerated() { raw[70 + i] = b } }
            withUnsafeBytes(of: Int16(32).littleEndian) { for (i, b) in $0.enumerated() { raw[72 + i] = b } }
            for a in 0..<3 { withUnsafeBytes(of: Int16(n).littleEndian) { for (i, b) in $0.enumerated() { raw[42 + 2 * a + i] = b } } }
            let plain = tmp("bomb\(n).nii")
            try raw.write(to: plain)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-f", plain.path]
            try p.run()
            p.waitUntilExit()
            assertBad(URL(fileURLWithPath: plain.path + ".gz"), expected)
        }
    }

    /// A write that fails part way (here a file-size limit, as a full disk) throws naming the file and the OS
    /// error, and leaves the previous file byte for byte as it was; no temporary file is left behind.
    func testFailedWriteKeepsThePreviousFile() throws {
        let (ct, header) = try NIfTI.read(try Reference.file("nifti/ct.nii"))
        let dir = tmp("fsize")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["out.nii", "out.nii.gz"] {
            let url = dir.appendingPathComponent(name)
            var small = ct
            small.values = small.values.map { _ in 0 }
            try NIfTI.write(small, to: url, as: .uint8, like: header)
            let before = try Data(contentsOf: url)
            var noise = ct
            noise.values = noise.values.indices.map { Float(($0 &* 2_654_435_761) % 4000) - 2000 }
            try withFileSizeLimit(4096) {
                XCTAssertThrowsError(try NIfTI.write(noise, to: url, as: .float32, like: header)) { error in
                    XCTAssertTrue("\(error)".contains(url.path), "\(error)")
                    XCTAssertTrue("\(error)".contains("File too large"), "\(error)")
                }
            }
            XCTAssertEqual(try Data(contentsOf: url), before, name)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().filter { $0.hasPrefix(".") }, [], name)
        }
    }

    /// Text outputs (reports, manifests) the same way: all or nothing, the old file kept on failure.
    func testAtomicTextWriteKeepsThePreviousFile() throws {
        let dir = tmp("atomic")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("report.md")
        try "first\n".writeAtomically(to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "first\n")
        try withFileSizeLimit(1024) {
            XCTAssertThrowsError(try String(repeating: "x", count: 10_000).writeAtomically(to: url)) { error in
                XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("File too large"), "\(error)")
            }
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "first\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["report.md"])
        try "second\n".writeAtomically(to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "second\n")
    }

    /// Runs `body` with RLIMIT_FSIZE lowered and SIGXFSZ ignored (writes past the limit fail with EFBIG).
    func withFileSizeLimit(_ bytes: rlim_t, _ body: () throws -> Void) rethrows {
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var limit = rlimit(rlim_cur: bytes, rlim_max: old.rlim_max)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        defer {
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
            signal(SIGXFSZ, oldHandler)
        }
        try body()
    }

    /// A file reached through a symbolic link is read as the file (its size is the target's), and a gzip
    /// stream is recognised by its bytes, not its name.
    func testSymlinksAndGzipByContent() throws {
        let (ct, _) = try NIfTI.read(try Reference.file("nifti/ct.nii"))
        for name in ["ct.nii", "ct.nii.gz"] {
            let link = tmp("link-" + name)
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: try Reference.file("nifti/" + name))
            defer { try? FileManager.default.removeItem(at: link) }
            XCTAssertEqual(try NIfTI.read(link).volume.values, ct.values, name)
        }
        let misnamed = tmp("really-gzip.nii")
        try FileManager.default.copyItem(at: try Reference.file("nifti/ct.nii.gz"), to: misnamed)
        defer { try? FileManager.default.removeItem(at: misnamed) }
        XCTAssertEqual(try NIfTI.read(misnamed).volume.values, ct.values)
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
