import Train
import Volumes
import XCTest

/// The post-processing every segmentation gets by default: only the largest liver ∪ tumour component stays.
final class LargestComponentTests: XCTestCase {
    func testKeepsTheLargestForegroundComponentWithItsTumours() {
        let s = [12, 10, 6]
        var v = [Float](repeating: 0, count: s.reduce(1, *))
        func set(_ xs: Range<Int>, _ ys: Range<Int>, _ zs: Range<Int>, _ l: Float) {
            for x in xs { for y in ys { for z in zs { v[(x * s[1] + y) * s[2] + z] = l } } }
        }
        set(0..<6, 0..<6, 0..<6, 1)      // the liver (216 voxels) …
        set(2..<4, 2..<4, 2..<4, 2)      // … with a tumour inside
        set(9..<11, 7..<9, 0..<2, 2)     // a detached "tumour" (8 voxels)
        set(8..<9, 0..<2, 4..<6, 1)      // a detached "liver" island (4 voxels)
        let affine = Affine([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        let out = ScanSegmentation.keepLargestForeground(Volume(shape: s, values: v, affine: affine))
        XCTAssertEqual(out.values.filter { $0 == 2 }.count, 8, "the tumour inside the liver stays")
        XCTAssertEqual(out.values.filter { $0 == 1 }.count, 216 - 8, "the liver stays")
        XCTAssertEqual(out.values.filter { $0 != 0 }.count, 216, "the detached islands are gone")
        let liverOnly = ScanSegmentation.keepLargestForeground(Volume(shape: s, values: v.map { $0 == 1 ? 1 : 0 }, affine: affine))
        XCTAssertEqual(liverOnly.values.filter { $0 != 0 }.count, 216 - 8, "the liver around the hole stays, the island goes")
    }
}
