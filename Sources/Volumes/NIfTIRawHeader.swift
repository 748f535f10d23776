import Foundation

/// The fields of a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header that decide how a file is read,
/// parsed from the raw bytes (either byte order) and checked before libnifti or any allocation sees
/// them: a hostile header is an error naming the field, never a crash or a giant allocation.
struct NIfTIRawHeader {
    var version: Int                 // 1 or 2
    var swapped: Bool                // stored in the other byte order than this machine's
    var dim: [Int64]                 // dim[0] = number of dimensions, dim[1...7] sizes
    var datatype: Int
    var pixdim: [Double]             // pixdim[0] = qfac, pixdim[1...3] voxel sizes
    var voxOffset: Double
    var sclSlope: Double, sclInter: Double
    var qformCode: Int, sformCode: Int
    var quaternion: [Double]         // quatern_b, c, d, qoffset_x, y, z
    var srow: [[Double]]             // srow_x, srow_y, srow_z

    static let nifti1Size = 348, nifti2Size = 540

    /// The header's size from its first four bytes (sizeof_hdr, either byte order), nil when it is neither.
    static func size(of prefix: [UInt8]) -> Int? {
        guard prefix.count >= 4 else { return nil }
        let le = Int32(prefix[0]) | Int32(prefix[1]) << 8 | Int32(prefix[2]) << 16 | Int32(prefix[3]) << 24
        for size in [nifti1Size, nifti2Size] where le == Int32(size) || le.byteSwapped == Int32(size) { return size }
        return nil
    }

    init(bytes b: [UInt8], file: String) throws {
        func fail(_ p: String) -> NIfTIError { NIfTIError(file: file, problem: p) }
        guard let size = Self.size(of: b) else {
            throw fail(b.count < 4 ? "truncated (\(b.count) bytes): not a complete NIfTI header" : "not a NIfTI-1/NIfTI-2 file")
        }
        guard b.count >= size else { throw fail("truncated (\(b.count) bytes): not a complete NIfTI header") }
        version = size == Self.nifti1Size ? 1 : 2
        swapped = b[0] == 0
        let swap = swapped
        func int<T: FixedWidthInteger>(_ o: Int, _: T.Type) -> T {
            var v: T = 0
            withUnsafeMutableBytes(of: &v) { for i in 0..<MemoryLayout<T>.size { $0[i] = b[o + i] } }
            return swap ? v.byteSwapped : v
        }
        func f32(_ o: Int) -> Double { Double(Float(bitPattern: int(o, UInt32.self))) }
        func f64(_ o: Int) -> Double { Double(bitPattern: int(o, UInt64.self)) }
        if version == 1 {
            let magic = Array(b[344..<348])
            if magic == Array("ni1\0".utf8) { throw fail("a header of a .hdr/.img pair, not a single-file .nii") }
            guard magic == Array("n+1\0".utf8) else { throw fail("not a NIfTI-1 file (magic \(magic)); ANALYZE 7.5 is not supported") }
            dim = (0..<8).map { Int64(int(40 + 2 * $0, Int16.self)) }
            datatype = Int(int(70, Int16.self))
            pixdim = (0..<8).map { f32(76 + 4 * $0) }
            voxOffset = f32(108)
            sclSlope = f32(112); sclInter = f32(116)
            qformCode = Int(int(252, Int16.self)); sformCode = Int(int(254, Int16.self))
            quaternion = (0..<6).map { f32(256 + 4 * $0) }
            srow = (0..<3).map { r in (0..<4).map { f32(280 + 16 * r + 4 * $0) } }
        } else {
            guard Array(b[4..<8]) == Array("n+2\0".utf8) else { throw fail("not a single-file NIfTI-2 file (magic \(Array(b[4..<8])))") }
            datatype = Int(int(12, Int16.self))
            dim = (0..<8).map { int(16 + 8 * $0, Int64.self) }
            pixdim = (0..<8).map { f64(104 + 8 * $0) }
            let offset = int(168, Int64.self)
            voxOffset = Double(offset)
            sclSlope = f64(176); sclInter = f64(184)
            qformCode = Int(int(344, Int32.self)); sformCode = Int(int(348, Int32.self))
            quaternion = (0..<6).map { f64(352 + 8 * $0) }
            srow = (0..<3).map { r in (0..<4).map { f64(400 + 32 * r + 8 * $0) } }
        }
    }

    /// Where the voxels are and how many bytes they take, once every field that decides it is checked.
    struct Layout {
        var shape: [Int]             // 3 spatial sizes (1 for absent axes)
        var type: NIfTIDataType
        var offset: Int              // bytes before the data
        var byteCount: Int           // bytes of voxel data
    }

    /// deflate cannot expand input by more than 1032:1, so a gzip file of n bytes holds at most this much.
    static let maxInflation = 1032

    /// Checks the header against the file (size on disk, compressed or not) and the voxel budget.
    func layout(file: String, fileSize: Int, gzip: Bool, maxVoxels: Int) throws -> Layout {
        func fail(_ p: String) -> NIfTIError { NIfTIError(file: file, problem: p) }
        let n = Int(dim[0])
        guard (1...7).contains(n) else { throw fail("invalid dimensions: dim[0] = \(dim[0]) (the number of axes must be 1 to 7)") }
        let sizes = Array(dim[1...n])
        if let bad = sizes.firstIndex(where: { $0 < 1 }) {
            throw fail("invalid dimensions \(sizes): dim[\(bad + 1)] = \(sizes[bad]) (every size must be at least 1)")
        }
        guard sizes.dropFirst(3).allSatisfy({ $0 == 1 }) else {
            throw fail("not a 3D image: dimensions \(sizes) (4D is accepted only with one volume)")
        }
        let shape = (0..<3).map { $0 < n ? Int(sizes[$0]) : 1 }
        var voxels = 1
        for s in shape {
            let (p, overflow) = voxels.multipliedReportingOverflow(by: s)
            guard !overflow, p <= maxVoxels else {
                throw fail("absurd dimensions \(shape) (more than \(maxVoxels) voxels; raise SWINLIVER_MAX_VOXELS if it is real)")
            }
            voxels = p
        }
        guard let type = NIfTIDataType(rawValue: Int32(truncatingIfNeeded: datatype)), Int(type.rawValue) == datatype else {
            throw fail("unsupported datatype \(datatype) (SwinLiver reads \(NIfTIDataType.allCases.map { "\($0)" }.joined(separator: ", ")))")
        }
        let headerEnd = (version == 1 ? Self.nifti1Size : Self.nifti2Size) + 4
        guard voxOffset.isFinite, voxOffset == voxOffset.rounded(), voxOffset >= Double(headerEnd), voxOffset < 0x1p40 else {
            throw fail("invalid vox_offset \(voxOffset) (must be a whole number of bytes, at least \(headerEnd))")
        }
        let offset = Int(voxOffset)
        let bytes = voxels * type.bytes              // ≤ maxVoxels · 8: no overflow
        let end = offset + bytes
        if gzip {
            let (most, overflow) = fileSize.multipliedReportingOverflow(by: Self.maxInflation)
            guard overflow || end <= most + (1 << 16) else {
                throw fail("truncated or hostile: the header describes \(end) bytes, more than a \(fileSize)-byte gzip file can hold")
            }
        } else {
            guard fileSize >= end else { throw fail("truncated: \(fileSize) bytes, the header describes \(end)") }
        }
        try checkScaling(fail)
        try checkGeometry(fail)
        return Layout(shape: shape, type: type, offset: offset, byteCount: bytes)
    }

    /// nibabel: a slope of 0 or NaN/inf means no scaling; a valid slope with a non-finite intercept is an error.
    private func checkScaling(_ fail: (String) -> NIfTIError) throws {
        if sclSlope != 0, sclSlope.isFinite, !sclInter.isFinite {
            throw fail("invalid scl_inter \(sclInter) with scl_slope \(sclSlope)")
        }
    }

    /// The geometry the affine is built from must be finite and non-degenerate: the sform when its code
    /// is set, the quaternion and voxel sizes when the qform's is, the voxel sizes when neither is.
    private func checkGeometry(_ fail: (String) -> NIfTIError) throws {
        guard qformCode >= 0, sformCode >= 0 else { throw fail("invalid qform_code \(qformCode) / sform_code \(sformCode)") }
        if sformCode > 0 {
            guard srow.joined().allSatisfy(\.isFinite) else { throw fail("sform (srow_x/y/z) holds NaN or infinite values: \(srow)") }
            let m = srow.map { Array($0.prefix(3)) }
            let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
            guard det != 0, det.isFinite else { throw fail("sform is singular (determinant \(det)): no voxel-to-world mapping") }
        }
        if qformCode > 0 {
            guard quaternion.allSatisfy(\.isFinite) else {
                throw fail("qform quaternion/offset holds NaN or infinite values: \(quaternion)")
            }
            let b = quaternion[0], c = quaternion[1], d = quaternion[2]
            guard b * b + c * c + d * d <= 1 + 1e-6 else { throw fail("qform quaternion (\(b), \(c), \(d)) is longer than 1") }
        }
        if qformCode > 0 || sformCode == 0 {
            guard pixdim[1...3].allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw fail("invalid voxel size pixdim[1...3] = \(Array(pixdim[1...3])) (must be finite and positive)")
            }
        }
    }
}
