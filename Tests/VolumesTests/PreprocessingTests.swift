import Foundation
import SafeTensors
import TestSupport
import Volumes
import XCTest

/// The MONAI chain of ../shared/reference/preprocessing, step by step: arrays, labels, affines.
final class PreprocessingTests: XCTestCase {
    func testEveryStepMatchesMONAI() throws {
        let dir = try Reference.file("preprocessing")
        let steps = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("steps.safetensors"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("preprocessing.json"))) as! [String: Any]
        let expected = Dictionary(uniqueKeysWithValues: (json["steps"] as! [[String: Any]]).map { ($0["step"] as! String, $0) })
        let (image, _) = try NIfTI.read(try Reference.file("nifti/ct.nii.gz"))
        let (label, _) = try NIfTI.read(try Reference.file("nifti/label.nii.gz"))
        var seen: [String] = []
        _ = try Preprocessing()(image: image, label: label) { step, img, lab in
            seen.append(step)
            let e = expected[step]!
            XCTAssertEqual([1] + img.shape, (e["image"] as! [String: Any])["shape"] as! [Int], "\(step) shape")
            let want = try! steps.floats("image.\(step)")
            let worst = zip(img.values, want).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(step): image max abs error \(worst)")
            XCTAssertEqual(lab!.values, try! steps.floats("label.\(step)"), "\(step): labels")
            let aff = (e["image"] as! [String: Any])["affine"] as! [[Double]]
            for r in 0..<4 { for c in 0..<4 { XCTAssertEqual(img.affine.rows[r][c], aff[r][c], accuracy: 1e-5, "\(step) affine") } }
            XCTAssertEqual(lab!.affine, img.affine)
        }
        XCTAssertEqual(seen, ["2_Orientationd", "3_Spacingd", "4_ScaleIntensityRanged", "5_CropForegroundd"])
    }

    func testOrientationUndoesPermutationsAndFlips() throws {
        // An LPS-like volume whose axes are also permuted: (A, S, L).
        let rows: [[Double]] = [[0, 0, -2, 10], [1.5, 0, 0, -3], [0, 3, 0, 7], [0, 0, 0, 1]]
        let v = Volume(shape: [2, 3, 4], values: (0..<24).map(Float.init), affine: Affine(rows))
        let r = try Preprocessing.orient(v)
        XCTAssertEqual(r.affine.axisCodes, ["R", "A", "S"])
        XCTAssertEqual(r.shape, [4, 2, 3])
        // Every voxel keeps its world position.
        for a in 0..<2 { for b in 0..<3 { for c in 0..<4 {
            let world = (0..<3).map { i in rows[i][0] * Double(a) + rows[i][1] * Double(b) + rows[i][2] * Double(c) + rows[i][3] }
            let inv = (0..<3).map { j in (world[j] - r.affine.rows[j][3]) / r.affine.rows[j][j] }.map { Int($0.rounded()) }
            XCTAssertEqual(r[inv[0], inv[1], inv[2]], v[a, b, c])
        } } }
    }
}

/// Predictions go back onto the input CT's grid.
final class RestoreTests: XCTestCase {
    func testRestoreIsExactWithoutResampling() throws {
        let (label, _) = try NIfTI.read(try Reference.file("nifti/label.nii.gz"))
        let chain = Preprocessing(spacing: label.spacing, cropForeground: false)
        let r = try chain(image: label, label: label)
        let back = try Preprocessing.restore(r.label!, trace: r.trace, nearest: true)
        XCTAssertEqual(back.shape, label.shape)
        XCTAssertEqual(back.values, label.values)
        XCTAssertEqual(back.affine, label.affine)
    }

    func testRestoreAfterTheFullChainOverlapsTheOriginal() throws {
        let (ct, _) = try NIfTI.read(try Reference.file("nifti/ct.nii.gz"))
        let (label, _) = try NIfTI.read(try Reference.file("nifti/label.nii.gz"))
        let r = try Preprocessing()(image: ct, label: label)
        let back = try Preprocessing.restore(r.label!, trace: r.trace, nearest: true)
        XCTAssertEqual(back.shape, label.shape)
        XCTAssertEqual(back.affine, label.affine)
        var inter = 0, a = 0, b = 0
        for (x, y) in zip(back.values, label.values) {
            if x == 1 { a += 1 }
            if y == 1 { b += 1 }
            if x == 1 && y == 1 { inter += 1 }
        }
        XCTAssertGreaterThan(2 * Double(inter) / Double(a + b), 0.9, "liver Dice after preprocessing and back")
        XCTAssertThrowsError(try Preprocessing.restore(label, trace: r.trace, nearest: true))
    }
}
