import AtomicFile
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
    /// Volumes larger than this many voxels are refused before any allocation (a hostile header);
    /// `SWINLIVER_MAX_VOXELS` raises or lowers it. 2²⁹ is 18× a 512 × 512 × 1000 CT.
    public static var maxVoxels: Int {
        ProcessInfo.processInfo.environment["SWINLIVER_MAX_VOXELS"].flatMap { Int($0) }.map { min(max($0, 1), 1 << 40) } ?? 1 << 29
    }

    /// Voxel sizes outside this range (mm) are refused: no scanner makes them, and resampling from them
    /// would ask for absurd grids.
    public static let voxelSizeRange = 1e-3...1e3

    /// Reads a 3D (or single-volume 4D) NIfTI-1/2 image, `.nii` or `.nii.gz`, as Float values with
    /// scl_slope/scl_inter applied, and the affine nibabel reports (sform when its code > 0, else qform,
    /// else the pixdim diagonal). The header is checked in Swift first (NIfTIRawHeader); the data is read
    /// in chunks, so a file that lies about its size fails before its full size is allocated; a gzip
    /// file is read to its end, so its CRC and length are checked.
    public static func read(_ url: URL) throws -> (volume: Volume, header: NIfTIHeader) {
        let path = url.path
        func fail(_ p: String) -> NIfTIError { NIfTIError(file: path, problem: p) }
        var info = stat()   // follows symbolic links: the size is the file's, not the link's
        guard stat(path, &info) == 0 else { throw fail(errno == ENOENT ? "no such file" : "cannot read: \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw fail("is a folder, not a NIfTI file") }
        let fileSize = Int(info.st_size)
        let stream = try GzipStream(path: path)
        defer { stream.close() }
        var head = try stream.read(upTo: NIfTIRawHeader.nifti1Size)
        if NIfTIRawHeader.size(of: head) == NIfTIRawHeader.nifti2Size {
            head += try stream.read(upTo: NIfTIRawHeader.nifti2Size - NIfTIRawHeader.nifti1Size)
        }
        let raw = try NIfTIRawHeader(bytes: head, file: path)
        let gzip = stream.isCompressed
        let layout = try raw.layout(file: path, fileSize: fileSize, gzip: gzip, maxVoxels: maxVoxels)
        // libnifti turns the (now known sane) header bytes into the qform/sform matrices.
        var img = cnifti_image()
        guard head.withUnsafeBytes({ cnifti_header($0.baseAddress, Int32(raw.version), &img) }) == 0 else {
            throw fail("libnifti could not read the header")
        }
        let qform = affine(img.qto_xyz), sform = affine(img.sto_xyz)
        let pixdim = withUnsafeBytes(of: img.pixdim) { Array($0.bindMemory(to: Double.self)) }
        let aff: Affine = img.sform_code > 0 ? sform
            : img.qform_code > 0 ? qform : Affine.diagonal([pixdim[1], pixdim[2], pixdim[3]])
        guard aff.rows.joined().allSatisfy(\.isFinite) else { throw fail("the affine holds NaN or infinite values: [\(aff)]") }
        guard aff.spacing.allSatisfy({ voxelSizeRange.contains($0) }) else {
            throw fail("voxel size \(aff.spacing) mm is outside \(voxelSizeRange.lowerBound)–\(voxelSizeRange.upperBound) mm")
        }
        // The data, chunk by chunk.
        guard try stream.skip(layout.offset - head.count) == layout.offset - head.count else {
            throw fail("truncated: the file ends before the image data")
        }
        let bytes = try readData(stream, count: layout.byteCount, file: path)
        if gzip { try stream.finish(limit: 1 << 24) }
        var slope = raw.sclSlope, inter = raw.sclInter
        if slope == 0 || !slope.isFinite { slope = 1; inter = 0 }   // nibabel: no scaling
        let values = bytes.withUnsafeBytes { p in
            convert(p.baseAddress!, type: layout.type, shape: layout.shape, slope: slope, inter: inter, swapped: raw.swapped)
        }
        let bad = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        guard bad == 0 else { throw fail("\(bad) NaN or infinite voxel values") }
        let header = NIfTIHeader(version: raw.version, datatype: layout.type, qformCode: Int(img.qform_code),
                                 sformCode: Int(img.sform_code), qform: qform, sform: sform, pixdim: pixdim,
                                 slope: slope, inter: inter)
        return (Volume(shape: layout.shape, values: values, affine: aff), header)
    }

    /// Reads exactly `count` bytes, growing the buffer as the data arrives (a header that promises more
    /// than the file holds fails before the whole promise is allocated).
    private static func readData(_ stream: GzipStream, count: Int, file: String) throws -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            let chunk = try stream.read(upTo: min(count - out.count, max(out.count, 1 << 24)))
            if chunk.isEmpty { break }
            out.reserveCapacity(min(count, out.count + chunk.count + max(out.count, 1 << 24)))
            out += chunk
        }
        guard out.count == count else {
            throw NIfTIError(file: file, problem: "truncated: \(out.count) bytes of image data, the header describes \(count)")
        }
        return out
    }

    /// Disk order is Fortran (i fastest); the volume is C order (k fastest).
    private static func convert(_ raw: UnsafeRawPointer, type: NIfTIDataType, shape: [Int], slope: Double,
                                inter: Double, swapped: Bool) -> [Float] {
        let (I, J, K) = (shape[0], shape[1], shape[2])
        func gather<T: FixedWidthInteger>(_: T.Type, _ f: (T) -> Double) -> [Float] {
            var out = [Float](repeating: 0, count: I * J * K)
            for k in 0..<K { for j in 0..<J { for i in 0..<I {
                let v = raw.loadUnaligned(fromByteOffset: (i + I * (j + J * k)) * MemoryLayout<T>.size, as: T.self)
                out[(i * J + j) * K + k] = Float(f(swapped ? v.byteSwapped : v) * slope + inter)
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
        case .float32: return gather(UInt32.self) { Double(Float(bitPattern: $0)) }
        case .float64: return gather(UInt64.self) { Double(bitPattern: $0) }
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
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw fail("cannot create the folder \(dir.path)")
        }
        let tmpPath = temporaryPath(beside: path, keeping: ext)
        let (I, J, K) = (volume.shape[0], volume.shape[1], volume.shape[2])
        func fortran<T>(_ f: (Float) -> T) -> [T] {
            var out = [T](repeating: f(0), count: I * J * K)
            for k in 0..<K { for j in 0..<J { for i in 0..<I { out[i + I * (j + J * k)] = f(volume.values[(i * J + j) * K + k]) } } }
            return out
        }
        func int<T: FixedWidthInteger>(_ v: Float) -> T {
            let r = v.rounded()
            if r.isNaN { return 0 }
            return r <= Float(T.min) ? T.min : r >= Float(T.max) ? T.max : T(r)
        }
        let dims: [Int64] = [Int64(I), Int64(J), Int64(K)]
        let affine = volume.affine.rows.flatMap { $0 }
        let qcode = Int32(like.map { $0.qformCode > 0 ? $0.qformCode : 1 } ?? 1)
        let scode = Int32(like.map { $0.sformCode > 0 ? $0.sformCode : 1 } ?? 1)
        var osError: Int32 = 0
        func write<T>(_ data: [T]) -> Int32 {
            data.withUnsafeBytes {
                cnifti_write(tmpPath, dims, type.rawValue, $0.baseAddress, affine, qcode, scode, version == 2 ? 2 : 1, &osError)
            }
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
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: tmpPath)
            let why = osError != 0 ? String(cString: strerror(osError)) : "libnifti error \(status)"
            throw fail("could not write (\(why)); any previous file of this name is left as it was")
        }
        do { try commitTemporaryFile(tmpPath, to: path) } catch let e as FileWriteError { throw fail(e.problem) }
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
