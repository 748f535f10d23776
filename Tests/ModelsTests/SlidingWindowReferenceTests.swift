import Autograd
import Foundation
import Kernels
import Models
import SafeTensors
import TestSupport
import Train
import XCTest

/// monai.inferers.sliding_window_inference with the Swin UNETR fixture model, both modes, both backends.
final class SlidingWindowReferenceTests: XCTestCase {
    func testImportanceMapsAndWindowStarts() throws {
        let f = try SafeTensorsFile(contentsOf: try Reference.file("sliding_window/sliding_window.safetensors"))
        for mode in SlidingWindowOptions.Mode.allCases {
            assertClose(importanceMap(roi: [32, 32, 64], mode: mode, sigmaScale: 0.125), try f.floats("importance_map_\(mode.rawValue)"),
                        rel: 1e-6, "importance map \(mode)")
        }
        XCTAssertEqual(windowStarts(size: 48, roi: 32, overlap: 0.5), [0, 16])
        XCTAssertEqual(windowStarts(size: 40, roi: 32, overlap: 0.5), [0, 8])
        XCTAssertEqual(windowStarts(size: 64, roi: 64, overlap: 0.5), [0])
        XCTAssertEqual(windowStarts(size: 100, roi: 32, overlap: 0.25), [0, 24, 48, 68])
    }

    func testOutputsMatchMONAI() throws {
        let f = try SafeTensorsFile(contentsOf: try Reference.file("sliding_window/sliding_window.safetensors"))
        for b in try TestBackends.all() {
            let model = try SwinUNETRFile.load(try Reference.file("swin_unetr/weights.safetensors"),
                                               configFile: try Reference.file("swin_unetr/config.json"), backend: b)
            let x = try b.upload(try f.floats("input"), shape: Shape(try f.shape("input")), name: "input")
            for mode in SlidingWindowOptions.Mode.allCases {
                let options = SlidingWindowOptions(roi: [32, 32, 64], overlap: 0.5, mode: mode, batchSize: 2)
                let y = try slidingWindowInference(x, options: options, backend: b) { windows in
                    let tape = Tape(backend: b, recording: false)
                    return try model(tape.input(windows), tape: tape).value
                }
                let key = "output_\(mode.rawValue)"
                try assertClose(y, on: b, try f.floats(key), shape: Shape(try f.shape(key)), rel: 1e-4, "\(key) on \(b.deviceName)")
            }
        }
    }
}
