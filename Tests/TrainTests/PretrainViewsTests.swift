import SeededRandom
import Train
import XCTest

final class PretrainViewsTests: XCTestCase {
    func testFlipsTargetsAndMasking() {
        let size = [8, 6, 4], n = size.reduce(1, *)
        let images = (0..<(2 * n)).map { Float($0 % n) / Float(n) }   // both samples: a ramp
        var rng = SplitMix64(seed: 9)
        let v = PretrainViews().make(images: images, count: 2, channels: 1, size: size, rng: &rng)
        XCTAssertEqual(v.flips.count, 4)
        XCTAssertEqual(v.targets.count, 4 * n)
        for (i, k) in v.flips.enumerated() {
            let src = Array(images[(i % 2) * n..<(i % 2 + 1) * n])
            XCTAssertEqual(Array(v.targets[i * n..<(i + 1) * n]),
                           PretrainViews.flip(src, channels: 1, size: size, axes: PretrainViews.flipAxes[k]), "view \(i) class \(k)")
        }
        XCTAssertNotEqual(v.inputs, v.targets, "some voxels must be masked")
        XCTAssertTrue(v.inputs.allSatisfy { $0 >= 0 && $0 <= 1 })
        // flip about z (axis 2) twice is the identity; class 3 = y then z
        let once = PretrainViews.flip(Array(images[..<n]), channels: 1, size: size, axes: [2])
        XCTAssertEqual(PretrainViews.flip(once, channels: 1, size: size, axes: [2]), Array(images[..<n]))
        XCTAssertEqual(once[0], images[3])
    }
}
