import Classification
import Foundation
import SafeTensors
import TestSupport
import Volumes
import XCTest

/// `../shared/reference/slices`: component selection, slice window, crop box, bilinear resize and the
/// per-slice rescaling, exactly as its README defines them.
final class TumourSlicesTests: XCTestCase {
    func volume(_ f: SafeTensorsFile, _ key: String) throws -> Volume {
        let values: [Float]
        if try f.info(key).dtype == .U8 { values = try f.bytes(key).map { Float($0) } } else { values = try f.floats(key) }
        return Volume(shape: try f.shape(key), values: values, affine: .diagonal([1, 1, 1]))
    }

    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: try Reference.file("slices/slices.json"))) as! [String: Any]
    }

    func check(_ s: TumourSlices, _ want: [String: Any], _ name: String) {
        XCTAssertEqual(s.componentSizes, want["component_sizes"] as? [Int], name)
        XCTAssertEqual(s.largest + 1, want["largest_component_id"] as? Int, name)
        XCTAssertEqual(s.areaPerSlice, want["per_slice_area_of_largest"] as? [Int], name)
        XCTAssertEqual(s.centreSlice, want["center_slice"] as? Int, name)
        XCTAssertEqual(s.sliceIndices, want["slice_indices"] as? [Int], name)
        XCTAssertEqual([s.box.x0, s.box.x1, s.box.y0, s.box.y1], want["bbox_xy_half_open"] as? [Int], name)
    }

    func testMatchesTheReference() throws {
        let input = try SafeTensorsFile(contentsOf: try Reference.file("slices/slices_input.safetensors"))
        let output = try SafeTensorsFile(contentsOf: try Reference.file("slices/slices_output.safetensors"))
        let ct = try volume(input, "ct"), label = try volume(input, "label")
        let s = try XCTUnwrap(try TumourSlices.extract(ct: ct, label: label, window: .none))
        check(s, try json()["main_case"] as! [String: Any], "main case")
        XCTAssertEqual(try output.shape("slices"), [15, 299, 299])
        let want = try output.floats("slices")
        XCTAssertEqual(s.images.count, want.count)
        XCTAssertLessThanOrEqual(zip(s.images, want).map { abs($0 - $1) }.max()!, 1e-5)

        let edge = try volume(SafeTensorsFile(contentsOf: try Reference.file("slices/edge_case_label.safetensors")), "label")
        check(try XCTUnwrap(try TumourSlices.extract(ct: ct, label: edge, window: .none)), try json()["edge_case"] as! [String: Any], "edge case")
    }

    func testNoTumourAndShapeErrors() throws {
        let v = Volume(shape: [8, 8, 20], values: [Float](repeating: 1, count: 8 * 8 * 20), affine: .diagonal([1, 1, 1]))
        XCTAssertNil(try TumourSlices.extract(ct: v, label: v))
        let other = Volume(shape: [8, 8, 19], values: [Float](repeating: 0, count: 8 * 8 * 19), affine: .diagonal([1, 1, 1]))
        XCTAssertThrowsError(try TumourSlices.extract(ct: v, label: other)) { XCTAssertTrue("\($0)".contains("same 3D grid")) }
    }

    func testAutoWindowClipsToTheOrgansRange() throws {
        var label = [Float](repeating: 0, count: 16 * 16 * 16), ct = [Float](repeating: -1000, count: 16 * 16 * 16)
        for x in 4..<12 { for y in 4..<12 { for z in 4..<12 {
            let i = (x * 16 + y) * 16 + z
            label[i] = (6..<10).contains(x) && (6..<10).contains(y) && (6..<10).contains(z) ? 2 : 1
            ct[i] = label[i] == 2 ? 40 : 100 + Float(x)
        } } }
        ct[(5 * 16 + 5) * 16 + 5] = 3000   // a calcification: clipped by the per-study window
        let a = Volume(shape: [16, 16, 16], values: ct, affine: .diagonal([1, 1, 1]))
        let l = Volume(shape: [16, 16, 16], values: label, affine: .diagonal([1, 1, 1]))
        let s = try XCTUnwrap(try TumourSlices.extract(ct: a, label: l, count: 15, size: 32, window: .auto))
        XCTAssertEqual(s.sliceIndices, Array(0...14))   // centre 6 (first of the equal-area slices), window shifted inside
        XCTAssertTrue(s.images.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// The margin widens the crop box by mm converted with each axis' spacing, within the image; a bad margin is refused.
    func testMarginWidensTheBoxInMillimetres() throws {
        var label = [Float](repeating: 0, count: 20 * 16 * 16)
        for x in 8..<12 { for y in 2..<6 { for z in 6..<10 { label[(x * 16 + y) * 16 + z] = 2 } } }
        let ct = (0..<label.count).map { Float($0 % 97) }
        let affine = Affine.diagonal([0.5, 2, 3])   // 0.5 mm along x, 2 mm along y
        let a = Volume(shape: [20, 16, 16], values: ct, affine: affine), l = Volume(shape: [20, 16, 16], values: label, affine: affine)
        let tight = try XCTUnwrap(try TumourSlices.extract(ct: a, label: l, size: 32, window: .none))
        XCTAssertEqual([tight.box.x0, tight.box.x1, tight.box.y0, tight.box.y1], [8, 12, 2, 6])
        // 3 mm: 6 voxels along x, 1.5 → 2 along y.
        let wide = try XCTUnwrap(try TumourSlices.extract(ct: a, label: l, size: 32, window: .none, marginMM: 3))
        XCTAssertEqual([wide.box.x0, wide.box.x1, wide.box.y0, wide.box.y1], [2, 18, 0, 8])
        // 5 mm: 10 voxels along x and 2.5 → 3 along y, clipped to the image.
        let wider = try XCTUnwrap(try TumourSlices.extract(ct: a, label: l, size: 32, window: .none, marginMM: 5))
        XCTAssertEqual([wider.box.x0, wider.box.x1, wider.box.y0, wider.box.y1], [0, 20, 0, 9])
        XCTAssertEqual(wide.sliceIndices, tight.sliceIndices, "the margin is in-plane only")
        XCTAssertNotEqual(wide.images, tight.images)
        for bad in [-1.0, .nan, .infinity] {
            XCTAssertThrowsError(try TumourSlices.extract(ct: a, label: l, marginMM: bad)) { XCTAssertTrue("\($0)".contains("margin"), "\($0)") }
        }
    }

    /// Slice settings survive a slices folder and a classifier's metadata; a folder without slicing.json was cut with the
    /// defaults; a damaged file or metadata is an error naming it.
    func testSliceSettingsRoundTripAndRefusals() throws {
        let dir = try temporaryFolder("slicing")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try SliceSettings.read(folder: dir), SliceSettings(window: .auto, marginMM: 0))
        let s = SliceSettings(window: .none, marginMM: 12.5)
        try s.write(folder: dir)
        XCTAssertEqual(try SliceSettings.read(folder: dir), s)
        XCTAssertEqual(try SliceSettings(metadata: s.metadata, source: "w"), s)
        XCTAssertEqual(try SliceSettings(metadata: nil, source: "w"), SliceSettings())
        try "{\"window\": \"sideways\", \"margin_mm\": 1}".write(to: dir.appendingPathComponent(SliceSettings.file), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SliceSettings.read(folder: dir)) { XCTAssertTrue("\($0)".contains("slicing.json"), "\($0)") }
        XCTAssertThrowsError(try SliceSettings(metadata: "{\"window\": \"auto\", \"margin_mm\": -3}", source: "cls.safetensors")) {
            XCTAssertTrue("\($0)".contains("cls.safetensors"), "\($0)")
        }
    }

    func testSixteenBitPNGRoundTrip() throws {
        let dir = try temporaryFolder("png")
        defer { try? FileManager.default.removeItem(at: dir) }
        let values: [Float] = (0..<(7 * 5)).map { Float($0) / 34 }
        let url = dir.appendingPathComponent("s.png")
        try PNGFile.writeGray16(values, width: 5, height: 7, to: url)
        let r = try PNGFile.readGray(url)
        XCTAssertEqual(r.width, 5); XCTAssertEqual(r.height, 7); XCTAssertEqual(r.bitDepth, 16)
        XCTAssertEqual(r.samples, values.map { UInt16(($0 * 65535).rounded()) }, "lossless")
        try Data("not a png".utf8).write(to: dir.appendingPathComponent("bad.png"))
        XCTAssertThrowsError(try PNGFile.readGray(dir.appendingPathComponent("bad.png"))) { XCTAssertTrue("\($0)".contains("bad.png"), "\($0)") }
    }
}
