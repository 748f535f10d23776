import CNIfTI
import Foundation

/// A NIfTI file could not be read or written: names the file and the problem.
public struct NIfTIError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}

/// Element types SwinLiver reads and writes (NIfTI DT_* codes).
public enum NIfTIDataType: Int32, Sendable, CaseIterable {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64, int8 = 256, uint16 = 512, uint32 = 768
    case int64 = 1024, uint64 = 1280

    var bytes: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .float64, .int64, .uint64: 8
        }
    }
}

/// The header fields a caller may need beyond the volume (nibabel's names).
public struct NIfTIHeader: Sendable {
    public var version: Int            // 1 or 2
    public var datatype: NIfTIDataType
    public var qformCode: Int, sformCode: Int
    public var qform: Affine, sform: Affine
    public var pixdim: [Double]        // 8 entries; pixdim[0] = qfac
    /// Scaling as applied to the stored values (slope 1, inter 0 when the file has none).
    public var slope: Double, inter: Double
}

public enum NIfTI {
    /// Volumes larger than this many voxels are refused before any allocation (a hostile header).
    public static let maxVoxels = 1 << 31

    /// Reads a 3D (or single-volume 4D) NIfTI-1/2 image, `.nii` or `.nii.gz`, as Float values with
    /// scl_slope/scl_inter applied, and the affine nibabel reports (sform when its code > 0, else qform,
    /// else the pixdim diagonal).
    public static func read(_ url: URL) throws -> (volume: Volume, header: NIfTIHeader) {
        let path = url.path
        func fail(_ p: String) -> NIfTIError { NIfTIError(file: path, problem: p) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        // Header first: validate before reading any data.
        var img = cnifti_image()
        guard cnifti_open(path, &img) == 0 else {
            throw fail(fileSize < 348 ? "truncated (\(fileSize) bytes): not a complete NIfTI header" : "not a NIfTI-1/NIfTI-2 file")
        }
        defer { cnifti_close(&img) }
        let ndim = Int(img.ndim)
        // Axes beyond ndim count as 1 whatever the header holds there.
        let dims = withUnsafeBytes(of: img.dim) { Array($0.bindMemory(to: Int64.self)).map(Int.init) }
            .enumerated().map { $0.offset < ndim ? $0.element : 1 }
        guard ndim >= 1, ndim <= 7, dims.prefix(ndim).allSatisfy({ $0 >= 1 }) else {
            throw fail("invalid dimensions \(dims.prefix(max(ndim, 1)))")
        }
        guard dims[3...].allSatisfy({ $0 == 1 }) else {
            throw fail("not a 3D image: dimensions \(Array(dims.prefix(ndim))) (4D is accepted only with one volume)")
        }
        guard let type = NIfTIDataType(rawValue: img.datatype) else {
            throw fail("unsupported datatype \(img.datatype) (\(String(cString: cnifti_datatype_name(img.datatype))))")
        }
        let (n, overflow) = dims[0].multipliedReportingOverflow(by: dims[1] * dims[2])
        guard !overflow, dims[0] < 1 << 20, dims[1] < 1 << 20, dims[2] < 1 << 20, n <= maxVoxels else {
            throw fail("absurd dimensions \(Array(dims.prefix(3))) (more than \(maxVoxels) voxels)")
        }
        if !path.hasSuffix(".gz") {
            let needed = Int(img.vox_offset) + n * type.bytes
            guard fileSize >= needed else { throw fail("truncated: \(fileSize) bytes, the header describes \(needed)") }
        }
        guard cnifti_load(&img) == 0, let raw = img.data else {
            throw fail("truncated or corrupt image data (expected \(n * type.bytes) bytes)")
        }
        var slope = img.scl_slope, inter = img.scl_inter
        if slope == 0 || !slope.isFinite { slope = 1; inter = 0 }   // nibabel: no scaling
        if !inter.isFinite { inter = 0 }
        let values = convert(raw, type: type, shape: Array(dims.prefix(3)), slope: slope, inter: inter)
        let bad = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        guard bad == 0 else { throw fail("\(bad) NaN or infinite voxel values") }
        let qform = affine(img.qto_xyz), sform = affine(img.sto_xyz)
        let pixdim = withUnsafeBytes(of: img.pixdim) { Array($0.bindMemory(to: Double.self)) }
        let aff: Affine = img.sform_code > 0 ? sform
            : img.qform_code > 0 ? qform : Affine.diagonal([pixdim[1], pixdim[2], pixdim[3]].map { $0 > 0 ? $0 : 1 })
        let header = NIfTIHeader(version: Int(img.version), datatype: type, qformCode: Int(img.qform_code),
                                 sformCode: Int(img.sform_code), qform: qform, sform: sform, pixdim: pixdim,
                                 slope: slope, inter: inter)
        return (Volume(shape: Array(dims.prefix(3)), values: values, affine: aff), header)
    }

    /// Disk order is Fortran (i fastest); the volume is C order (k fastest).
    private static func convert(_ raw: UnsafeMutableRawPointer, type: NIfTIDataType, shape: [Int], slope: Double,
                                inter: Double) -> [Float] {
        let (I, J, K) = (shape[0], shape[1], shape[2])
        func gather<T>(_: T.Type, _ f: (T) -> Double) -> [Float] {
            let p = raw.bindMemory(to: T.self, capacity: I * J * K)
            var out = [Float](repeating: 0, count: I * J * K)
            for k in 0..<K { for j in 0..<J { for i in 0..<I {
                out[(i * J + j) * K + k] = Float(f(p[i + I * (j + J * k)]) * slope + inter)
            } } }
            return out
        }
        switch type {
        case .uint8: return gather(UInt8.self) { Double($0) }
        case .int8: return gather(Int8.self) { Double($0) }
        case .int16: return gather(Int16.self) { Double($0) }
        case .uint16: return gather(UInt16.self) { Double($0) }
        case .int32: return gather(Int32.self) { Double($0) }
        case .uint32: return gather(UInt32.self) { Double($0) }
        case .int64: return gather(Int64.self) { Double($0) }
        case .uint64: return gather(UInt64.self) { Double($0) }
        case .float32: return gather(Float.self) { Double($0) }
        case .float64: return gather(Double.self) { $0 }
        }
    }

    private static func affine<T>(_ m: T) -> Affine {
        withUnsafeBytes(of: m) { raw in
            let d = Array(raw.bindMemory(to: Double.self))
            return Affine((0..<4).map { r in Array(d[(r * 4)..<(r * 4 + 4)]) })
        }
    }

    /// Writes `volume` as NIfTI-1 (NIfTI-2 with `version: 2`; `.nii` or `.nii.gz` by the name) with its affine as both sform and
    /// qform (codes from `like`, else 1 = scanner), so masks overlay their CT in 3D Slicer / ITK-SNAP.
    /// Integer types round to nearest (saturating); the file appears atomically (temporary name, then rename).
    public static func write(_ volume: Volume, to url: URL, as type: NIfTIDataType = .float32, like: NIfTIHeader? = nil,
                             version: Int = 1) throws {
        let path = url.path
        func fail(_ p: String) -> NIfTIError { NIfTIError(file: path, problem: p) }
        let ext = path.hasSuffix(".nii.gz") ? ".nii.gz" : path.hasSuffix(".nii") ? ".nii" : ""
        guard !ext.isEmpty else { throw fail("the name must end in .nii or .nii.gz") }
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmpPath = dir.appendingPathComponent(".\(url.lastPathComponent.dropLast(ext.count)).tmp\(getpid())\(ext)").path
        let (I, J, K) = (volume.shape[0], volume.shape[1], volume.shape[2])
        func fortran<T>(_ f: (Float) -> T) -> [T] {
            var out = [T](repeating: f(0), count: I * J * K)
            for k in 0..<K { for j in 0..<J { for i in 0..<I { out[i + I * (j + J * k)] = f(volume.values[(i * J + j) * K + k]) } } }
            return out
        }
        func int<T: FixedWidthInteger>(_ v: Float) -> T {
            let r = v.rounded()
            return r <= Float(T.min) ? T.min : r >= Float(T.max) ? T.max : T(r)
        }
        let dims: [Int64] = [Int64(I), Int64(J), Int64(K)]
        let affine = volume.affine.rows.flatMap { $0 }
        let qcode = Int32(like.map { $0.qformCode > 0 ? $0.qformCode : 1 } ?? 1)
        let scode = Int32(like.map { $0.sformCode > 0 ? $0.sformCode : 1 } ?? 1)
        func write<T>(_ data: [T]) -> Int32 {
            data.withUnsafeBytes { cnifti_write(tmpPath, dims, type.rawValue, $0.baseAddress, affine, qcode, scode, version == 2 ? 2 : 1) }
        }
        let status: Int32
        switch type {
        case .float32: status = write(fortran { $0 })
        case .float64: status = write(fortran { Double($0) })
        case .uint8: status = write(fortran { int($0) as UInt8 })
        case .int8: status = write(fortran { int($0) as Int8 })
        case .int16: status = write(fortran { int($0) as Int16 })
        case .uint16: status = write(fortran { int($0) as UInt16 })
        case .int32: status = write(fortran { int($0) as Int32 })
        case .uint32: status = write(fortran { int($0) as UInt32 })
        case .int64: status = write(fortran { int($0) as Int64 })
        case .uint64: status = write(fortran { int($0) as UInt64 })
        }
        guard status == 0, FileManager.default.fileExists(atPath: tmpPath) else {
            try? FileManager.default.removeItem(atPath: tmpPath)
            throw fail("libnifti could not write the file")
        }
        guard rename(tmpPath, path) == 0 else {
            try? FileManager.default.removeItem(atPath: tmpPath)
            throw fail("rename failed: \(String(cString: strerror(errno)))")
        }
    }
}

extension NIfTI {
    /// An image and its label must share the voxel grid: same shape, affines equal within `tolerance` mm.
    public static func checkPair(image: Volume, imageFile: String, label: Volume, labelFile: String,
                                 tolerance: Double = 1e-3) throws {
        guard image.shape == label.shape else {
            throw NIfTIError(file: labelFile, problem: "shape \(label.shape) differs from the image \(imageFile) \(image.shape)")
        }
        let worst = zip(image.affine.rows.joined(), label.affine.rows.joined()).map { abs($0 - $1) }.max() ?? 0
        guard worst <= tolerance else {
            throw NIfTIError(file: labelFile, problem: "affine [\(label.affine)] differs from the image \(imageFile) [\(image.affine)] by \(worst)")
        }
    }
}

extension NIfTI {
    /// A label mask holds small non-negative integers (class ids); anything else is refused by name.
    public static func checkLabels(_ v: Volume, file: String) throws {
        if let bad = v.values.first(where: { $0 != $0.rounded() || $0 < 0 || $0 > 255 }) {
            throw NIfTIError(file: file, problem: "not a label mask: holds \(bad) (labels are integers 0...255)")
        }
    }
}

extension NIfTI {
    /// A NIfTI file name without its extension ("case_001.nii.gz" → "case_001"), nil for other files.
    public static func stem(_ fileName: String) -> String? {
        fileName.hasSuffix(".nii.gz") ? String(fileName.dropLast(7)) : fileName.hasSuffix(".nii") ? String(fileName.dropLast(4)) : nil
    }
}
