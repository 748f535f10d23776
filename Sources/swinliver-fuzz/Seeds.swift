import Foundation

/// NIfTI voxel types the seeds are written in (code, bits per voxel).
enum VoxelType: CaseIterable, Sendable {
    case uint8, int16, int32, float32, float64, uint16, int8

    var code: Int16 {
        switch self {
        case .uint8: return 2
        case .int16: return 4
        case .int32: return 8
        case .float32: return 16
        case .float64: return 64
        case .int8: return 256
        case .uint16: return 512
        }
    }

    var bits: Int16 {
        switch self {
        case .uint8, .int8: return 8
        case .int16, .uint16: return 16
        case .int32, .float32: return 32
        case .float64: return 64
        }
    }

    func encode(_ values: [Double]) -> [UInt8] {
        switch self {
        case .uint8: return values.map { UInt8(clamping: Int($0)) }
        case .int8: return values.map { UInt8(bitPattern: Int8(clamping: Int($0))) }
        case .int16: return Encode.int16(values.map { Int16(clamping: Int($0)) })
        case .uint16: return values.flatMap { Container.le16(UInt16(clamping: Int($0))) }
        case .int32: return values.flatMap { Container.le32(UInt32(bitPattern: Int32(clamping: Int($0)))) }
        case .float32: return Encode.float32(values.map { Float($0) })
        case .float64: return Encode.float64(values)
        }
    }
}

/// A small volume to write as a seed: shape (i, j, k), spacing in mm, values in NIfTI (Fortran) order.
struct VolumeSeed: Sendable {
    var shape: [Int]
    var spacing: [Double]
    var values: [Double]
    var type: VoxelType
}

/// Small valid seed files written byte by byte: NIfTI-1/2 volumes (CT and label mask of one synthetic
/// "patient" with a liver and a tumour), safetensors, PNG, and the CSV/JSON manifests the commands read.
/// Every seed is a pure function of its arguments.
enum Seeds {
    /// Seed grid (small, anisotropic, not a multiple of anything).
    static let shape = [12, 10, 8]
    static let spacing = [2.5, 3.0, 4.0]

    /// Label of voxel (i, j, k): 0 background, 1 liver (an ellipsoid), 2 tumour (a ball inside it).
    static func label(_ i: Int, _ j: Int, _ k: Int, shape: [Int]) -> Int {
        let x = (Double(i) + 0.5) / Double(shape[0]) - 0.45, y = (Double(j) + 0.5) / Double(shape[1]) - 0.5
        let z = (Double(k) + 0.5) / Double(shape[2]) - 0.5
        let t = x - 0.08, u = y, v = z
        if t * t + u * u + v * v < 0.035 { return 2 }
        return x * x / 0.12 + y * y / 0.1 + z * z / 0.14 < 1 ? 1 : 0
    }

    /// The CT of the seed patient (HU: air -1000 outside the body, soft tissue 40, liver 110, tumour 60).
    static func ct(shape: [Int] = shape, type: VoxelType = .int16) -> VolumeSeed {
        var v: [Double] = []
        for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] {
            let x = Double(i) / Double(shape[0] - 1) - 0.5, y = Double(j) / Double(shape[1] - 1) - 0.5
            let body = x * x + y * y < 0.22
            v.append([body ? 40 : -1000, 110, 60][label(i, j, k, shape: shape)] + Double((i * 7 + j * 13 + k * 5) % 11) - 5)
        } } }
        return VolumeSeed(shape: shape, spacing: spacing, values: v, type: type)
    }

    /// The label mask of the seed patient.
    static func mask(shape: [Int] = shape, type: VoxelType = .uint8) -> VolumeSeed {
        var v: [Double] = []
        for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] { v.append(Double(label(i, j, k, shape: shape))) } } }
        return VolumeSeed(shape: shape, spacing: spacing, values: v, type: type)
    }

    /// A NIfTI-1 single file (.nii): 348-byte header, magic "n+1\0", no extension, data at 352;
    /// qform (identity rotation) and sform (diagonal spacing, RAS), both code 1.
    static func nifti1(_ s: VolumeSeed) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 352)
        h.put(.i32, at: 0, int: 348)
        h.put(.i16, at: 40, int: Int64(s.shape.count))
        for (n, d) in s.shape.enumerated() { h.put(.i16, at: 42 + 2 * n, int: Int64(d)) }
        for n in s.shape.count..<7 { h.put(.i16, at: 42 + 2 * n, int: 1) }
        h.put(.i16, at: 70, int: Int64(s.type.code))
        h.put(.i16, at: 72, int: Int64(s.type.bits))
        h.put(.f32, at: 76, double: 1)  // qfac
        for n in 0..<7 { h.put(.f32, at: 80 + 4 * n, double: n < s.spacing.count ? s.spacing[n] : 1) }
        h.put(.f32, at: 108, double: 352)
        h.put(.f32, at: 112, double: 1)
        h[123] = 2  // mm
        h.put(ascii: "swinliver-fuzz seed", at: 148)
        h.put(.i16, at: 252, int: 1)
        h.put(.i16, at: 254, int: 1)
        for r in 0..<3 {
            h.put(.f32, at: 280 + 16 * r + 4 * r, double: s.spacing[r])
            h.put(.f32, at: 280 + 16 * r + 12, double: -Double(s.shape[r]) * s.spacing[r] / 2)
        }
        for n in 0..<3 { h.put(.f32, at: 268 + 4 * n, double: -Double(s.shape[n]) * s.spacing[n] / 2) }
        h.put(ascii: "n+1\0", at: 344)
        return h + s.type.encode(s.values)
    }

    /// A NIfTI-2 single file (.nii): 540-byte header, magic "n+2\0\r\n\u{1a}\n", data at 544.
    static func nifti2(_ s: VolumeSeed) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 544)
        h.put(.i32, at: 0, int: 540)
        h.replaceSubrange(4..<12, with: [0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a])
        h.put(.i16, at: 12, int: Int64(s.type.code))
        h.put(.i16, at: 14, int: Int64(s.type.bits))
        h.put(.i64, at: 16, int: Int64(s.shape.count))
        for n in 0..<7 { h.put(.i64, at: 24 + 8 * n, int: n < s.shape.count ? Int64(s.shape[n]) : 1) }
        h.put(.f64, at: 104, double: 1)
        for n in 0..<7 { h.put(.f64, at: 112 + 8 * n, double: n < s.spacing.count ? s.spacing[n] : 1) }
        h.put(.i64, at: 168, int: 544)
        h.put(.f64, at: 176, double: 1)
        h.put(ascii: "swinliver-fuzz seed", at: 240)
        h.put(.i32, at: 344, int: 1)
        h.put(.i32, at: 348, int: 1)
        for n in 0..<3 { h.put(.f64, at: 376 + 8 * n, double: -Double(s.shape[n]) * s.spacing[n] / 2) }
        for r in 0..<3 {
            h.put(.f64, at: 400 + 32 * r + 8 * r, double: s.spacing[r])
            h.put(.f64, at: 400 + 32 * r + 24, double: -Double(s.shape[r]) * s.spacing[r] / 2)
        }
        h.put(.i32, at: 500, int: 2)
        return h + s.type.encode(s.values)
    }

    /// A safetensors file: 8-byte little-endian header length, JSON header (tensors in the given order,
    /// `__metadata__` first when given, padded with spaces to 8 bytes), then the data.
    static func safetensors(_ tensors: [(name: String, dtype: String, shape: [Int], data: [UInt8])],
                            metadata: [(String, String)] = []) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            entries.append("\"__metadata__\":{" + metadata.map { "\(json($0.0)):\(json($0.1))" }.joined(separator: ",") + "}")
        }
        var offset = 0, data: [UInt8] = []
        for t in tensors {
            entries.append("\(json(t.name)):{\"dtype\":\"\(t.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                           + "\"data_offsets\":[\(offset),\(offset + t.data.count)]}")
            offset += t.data.count
            data += t.data
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return Container.le32(UInt32(header.count)) + [0, 0, 0, 0] + header + data
    }

    /// `debug forward`'s input: `x` of shape (1, 1, 32, 32, 32), a smooth ramp.
    static func forwardInput() -> [UInt8] {
        let n = 32 * 32 * 32
        return safetensors([("x", "F32", [1, 1, 32, 32, 32], Encode.float32((0..<n).map { Float($0 % 97) / 97 }))])
    }

    /// A few tensors of several dtypes with metadata (the reader's general path).
    static func smallTensors() -> [UInt8] {
        safetensors([("a.weight", "F32", [2, 3], Encode.float32([1, 2, 3, 4, 5, 6])),
                     ("b.bias", "F64", [2], Encode.float64([0.5, -0.5])),
                     ("c.index", "I64", [1], [UInt8](repeating: 0, count: 8)),
                     ("d.half", "F16", [2], [0, 0x3c, 0, 0xbc])],
                    metadata: [("config", "{\"feature_size\":12,\"in_channels\":1,\"out_channels\":3}"), ("spacing", "8.0,8.0,8.0")])
    }

    /// One PNG chunk: length, type, data, CRC over type + data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        return Container.be32(UInt32(data.count)) + t + data + Container.be32(Checksum.crc32(t + data))
    }

    /// PNG chunks (type, data) of a grayscale image, rows filtered with filter 0.
    static func pngChunks(width: Int, height: Int, bitDepth: Int) -> [(String, [UInt8])] {
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)
            for x in 0..<width {
                let v = (x * 9 + y * 5) % 64 + 96
                if bitDepth == 16 { raw += [UInt8(v), UInt8((x * 31) & 0xff)] } else { raw.append(UInt8(v)) }
            }
        }
        let ihdr = Container.be32(UInt32(width)) + Container.be32(UInt32(height)) + [UInt8(bitDepth), 0, 0, 0, 0]
        return [("IHDR", ihdr), ("IDAT", Container.zlib(raw)), ("IEND", [])]
    }

    static func png(_ chunks: [(String, [UInt8])]) -> [UInt8] {
        [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] + chunks.flatMap { chunk($0.0, $0.1) }
    }

    /// `metrics --classification`: patient,label,p_HCC,p_ICC,p_CRLM (two patients of each class).
    static let classificationCSV = """
        patient,label,p_HCC,p_ICC,p_CRLM
        P1,HCC,0.7,0.2,0.1
        P2,HCC,0.4,0.35,0.25
        P3,ICC,0.2,0.6,0.2
        P4,ICC,0.5,0.3,0.2
        P5,CRLM,0.1,0.2,0.7
        P6,CRLM,0.3,0.3,0.4

        """

    /// A `swinliver slices` manifest naming two PNG files of one patient.
    static let slicesManifest = "patient,slice,class,file\nP1,3,HCC,a.png\nP1,4,HCC,b.png\n"

    /// A dataset manifest (image,label,tumor_type,patient_id) of two cases.
    static let datasetManifest = """
        image,label,tumor_type,patient_id
        imagesTr/case_000.nii.gz,labelsTr/case_000.nii.gz,HCC,P000
        imagesTr/case_001.nii,labelsTr/case_001.nii,ICC,P001

        """

    /// The same two cases as a Medical Segmentation Decathlon dataset.json.
    static let decathlonJSON = """
        {"name":"fuzz","labels":{"0":"background","1":"liver","2":"tumour"},"numTraining":2,
         "training":[{"image":"./imagesTr/case_000.nii.gz","label":"./labelsTr/case_000.nii.gz"},
                     {"image":"./imagesTr/case_001.nii","label":"./labelsTr/case_001.nii"}]}

        """

    /// `evaluate --manifest`: tumour type per case.
    static let evaluateManifest = "image,label,tumor_type,patient_id\ncase_000.nii.gz,case_000.nii.gz,HCC,P000\ncase_001.nii,case_001.nii,ICC,P001\n"

    private static func json(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
