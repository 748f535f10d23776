import Foundation
import Train
import XCTest

/// The inference settings a weights file carries: written and read back in one place, defaults for older files,
/// invalid values refused naming the file and key.
final class InferenceSettingsTests: XCTestCase {
    func testRoundTripDefaultsAndRefusals() throws {
        let s = InferenceSettings(spacing: [4, 4, 4], roi: [64, 32, 32], overlap: 0.25)
        XCTAssertEqual(try InferenceSettings(metadata: s.metadata, file: "W"), s)
        XCTAssertEqual(s.metadata["spacing"], "4.0,4.0,4.0")
        XCTAssertEqual(s.metadata["classes"], "background,liver,tumour")
        XCTAssertEqual(try InferenceSettings(metadata: [:], file: "W"), InferenceSettings(), "a file from before the keys: MONAI's defaults")
        XCTAssertEqual(try InferenceSettings(metadata: ["spacing": "1.5,1.5,2.0", "roi": "96,96,96"], file: "W").overlap, 0.5)
        for (key, value) in [("spacing", "1e-300"), ("spacing", "inf,1,1"), ("spacing", "1,2"), ("roi", "32"), ("roi", "32,32,32"),
                             ("roi", "100,96,96"), ("overlap", "1"), ("overlap", "nan"), ("classes", "a,b"), ("classes", "a,a,b")] {
            XCTAssertThrowsError(try InferenceSettings(metadata: [key: value], file: "W.safetensors"), "\(key)=\(value)") {
                XCTAssertTrue("\($0)".hasPrefix("W.safetensors: metadata '\(key)' \(value):"), "\($0)")
            }
        }
    }
}
