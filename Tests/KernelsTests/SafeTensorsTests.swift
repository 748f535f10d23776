import Foundation
import SafeTensors
import TestSupport
import XCTest

final class SafeTensorsTests: XCTestCase {
    func header(_ json: String, data: Int = 0) -> Data {
        var bytes = json.data(using: .utf8)!
        var d = Data()
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(bytes)
        bytes = Data(repeating: 0, count: data)
        d.append(bytes)
        return d
    }

    func testRoundTripAllWrittenTypes() throws {
        var w = SafeTensorsWriter()
        w.metadata = ["feature_size": "12"]
        let v: [Float] = [0, 1, -2.5, 3.140625, 65504, 1e-7, -0.0001, 100]
        try w.add("f32", v, shape: [2, 4])
        try w.add("f16", v, shape: [8], as: .F16)
        try w.add("bf16", v, shape: [4, 2], as: .BF16)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try w.write(to: url)
        let f = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(f.metadata, ["feature_size": "12"])
        XCTAssertEqual(f.keys.sorted(), ["bf16", "f16", "f32"])
        XCTAssertEqual(try f.floats("f32"), v)
        XCTAssertEqual(try f.shape("bf16"), [4, 2])
        let h = try f.floats("f16")
        XCTAssertEqual(h.count, v.count)
        for (a, b) in zip(h, v) { XCTAssertEqual(a, b, accuracy: max(abs(b) * 1e-3, 6e-8)) }
        let bf = try f.floats("bf16")
        XCTAssertEqual(bf.count, v.count)
        for (a, b) in zip(bf, v) { XCTAssertEqual(a, b, accuracy: abs(b) * 4e-3 + 1e-30) }
        // bytes survive a second write unchanged
        var w2 = SafeTensorsWriter()
        for k in f.keys { let i = try f.info(k); try w2.addRaw(k, dtype: i.dtype, shape: i.shape, bytes: try f.bytes(k)) }
        let f2 = try SafeTensorsFile(data: try w2.encoded(), name: "copy")
        for k in f.keys { XCTAssertEqual(try f2.bytes(k), try f.bytes(k)) }
    }

    func testHalfConversionIsExactOnRepresentableValues() throws {
        var w = SafeTensorsWriter()
        let v: [Float] = [1, -1, 0.5, 2049, 6.1035156e-05, 5.9604645e-08, 65504, -65504]
        try w.add("h", v, shape: [v.count], as: .F16)
        XCTAssertEqual(try SafeTensorsFile(data: try w.encoded(), name: "h").floats("h"), [1, -1, 0.5, 2048, 6.1035156e-05, 5.9604645e-08, 65504, -65504])
    }

    func testCorruptFilesAreErrorsNamingTheProblem() {
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "truncated"),
            (header("{}").prefix(6), "truncated"),
            ({ var d = Data(); withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { d.append(contentsOf: $0) }; return d }(), "header length"),
            (header("[1, 2]"), "not a JSON object"),
            (header("{\"t\": {\"dtype\": \"Q8\", \"shape\": [1], \"data_offsets\": [0, 4]}}", data: 4), "unsupported dtype"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", data: 4), "outside"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", data: 8), "needs 12"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", data: 4), "bad shape"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 16], \"data_offsets\": [0, 4]}}", data: 4), "overflow"),
            (header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", data: 8), "overlap"),
            // As strict as the reference implementation: no trailing bytes, holes, duplicate keys or non-integers.
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", data: 8), "4 bytes after the last tensor"),
            (header("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", data: 12), "hole of 4 bytes before tensor b"),
            (header("{\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", data: 8), "hole of 4 bytes before tensor b"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", data: 4), "key t twice"),
            (header("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"\\u0077\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", data: 4), "key w twice"),
            (header("{\"t\": {\"dtype\": \"F32\", \"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [0, 4]}}", data: 4), "key dtype twice"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", data: 4), "tensor t: bad shape [1.5]"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [true], \"data_offsets\": [0, 4]}}", data: 4), "key 't.shape[0]' should be a number"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4.5]}}", data: 4), "data_offsets [0.0, 4.5]"),
            (header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1]}}", data: 4), "missing key 't.data_offsets'"),
            (header("{\"__metadata__\": {\"a\": 1}}"), "key '__metadata__.a' should be a string"),
        ]
        for (data, expected) in cases {
            XCTAssertThrowsError(try SafeTensorsFile(data: data, name: "bad.safetensors")) { error in
                XCTAssertTrue("\(error)".contains(expected), "'\(error)' should mention '\(expected)'")
                XCTAssertTrue("\(error)".contains("bad.safetensors"))
            }
        }
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "/nonexistent/w.safetensors"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent/w.safetensors"))
        }
    }

    func testReadsTheReferenceWeightsAndTheirDTypes() throws {
        let dir = try Reference.directory()
        let w = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("swin_unetr/weights.safetensors"))
        let idx = "swinViT.layers1.0.blocks.0.attn.relative_position_index"
        XCTAssertEqual(try w.info(idx).dtype, .I64)
        XCTAssertEqual(try w.shape(idx), [343, 343])
        XCTAssertEqual(try w.integers(idx).max(), 13 * 13 * 13 - 1)
        let inc = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("inception/blocks/BasicConv2d.weights.safetensors"))
        XCTAssertEqual(try inc.info("conv.weight").dtype, .F16)
        XCTAssertEqual(try inc.integers("bn.num_batches_tracked"), [0])
    }
}
