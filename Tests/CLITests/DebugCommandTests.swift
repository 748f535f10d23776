import Foundation
import SafeTensors
import TestSupport
import XCTest

/// `swinliver debug forward` end to end on the fixture: the command a PyTorch user would script against.
final class DebugCommandTests: XCTestCase {
    func testDebugForwardWritesMONAILogits() throws {
        let dir = try Reference.file("swin_unetr")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fwd-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try runSwinLiver(["debug", "forward", "--weights", dir.appendingPathComponent("weights.safetensors").path,
                                  "--config", dir.appendingPathComponent("config.json").path,
                                  "--input", dir.appendingPathComponent("input.safetensors").path, "--output", out.path,
                                  "--device", "cpu", "--hidden"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try SafeTensorsFile(contentsOf: out)
        let want = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("forward.safetensors"))
        for k in ["logits", "hidden_states_out.4", "encoder10", "decoder1"] {
            XCTAssertEqual(try got.shape(k), try want.shape(k), k)
            assertClose(try got.floats(k), try want.floats(k), rel: 1e-4, k)
        }
    }
}
