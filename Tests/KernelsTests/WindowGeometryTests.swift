import Kernels
import XCTest

/// The padded window slots that the pad-bias gradient sums over: every position of the padded grid outside the
/// volume appears once per sample (the windows tile the padded grid, the cyclic shift permutes it), and none
/// when the sizes are multiples of the window.
final class WindowGeometryTests: XCTestCase {
    func testPaddedSlotsCoverThePaddingOnce() {
        for (size, window, shift) in [([5, 6, 9], [3, 3, 4], [1, 1, 2]), ([48, 48, 48], [7, 7, 7], [3, 3, 3]),
                                      ([2, 3, 7], [4, 4, 4], [2, 2, 2])] {
            let g = WindowGeometry(batch: 2, size: size, channels: 3, window: window, shift: shift)
            let slots = g.paddedSlots
            XCTAssertEqual(slots.count, 2 * (g.padded.reduce(1, *) - size.reduce(1, *)), "\(size) window \(window)")
            XCTAssertEqual(Set(slots).count, slots.count, "no slot twice")
            XCTAssertTrue(slots.allSatisfy { $0 >= 0 && $0 < 2 * g.windowsPerSample * g.tokens })
        }
        XCTAssertEqual(WindowGeometry(batch: 1, size: [14, 7, 21], channels: 3, window: [7, 7, 7], shift: [3, 3, 3]).paddedSlots, [])
    }
}
