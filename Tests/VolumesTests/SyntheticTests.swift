import Foundation
import TestSupport
import Volumes
import XCTest

final class SyntheticTests: XCTestCase {
    let small = SyntheticCT(inPlaneVoxels: (64, 52))

    func testDeterministicWithLiverTumourAndTypes() {
        let a = small.make(seed: 7, index: 4), b = small.make(seed: 7, index: 4), c = small.make(seed: 7, index: 5)
        XCTAssertEqual(a.image.values, b.image.values)
        XCTAssertEqual(a.label.values, b.label.values)
        XCTAssertNotEqual(a.image.values, c.image.values)
        XCTAssertEqual(Set((0..<6).map { small.make(seed: 7, index: $0).tumourType }), Set(TumourType.allCases))
        for i in 0..<3 {
            let s = small.make(seed: 3, index: i)
            XCTAssertEqual(Set(s.label.values), [0, 1, 2], "case \(i) has background, liver and tumour")
            XCTAssertGreaterThanOrEqual(s.tumourCount, 1)
            let sp = s.image.spacing
            XCTAssertEqual(sp[0], sp[1], accuracy: 1e-9)
            XCTAssertTrue([2.5, 3, 4, 5].contains(sp[2]), "slice spacing \(sp[2])")
            let liver = zip(s.image.values, s.label.values).filter { $0.1 == 1 }.map { Double($0.0) }
            XCTAssertEqual(liver.reduce(0, +) / Double(liver.count), 110, accuracy: 45, "portal-venous liver HU")
        }
    }

    /// Every type is visible in this portal-venous phase: the tumour's median HU lies clearly below the
    /// liver's (HCC washes out; ICC and CRLM are hypo-attenuating). For ICC and CRLM the mean does too, their thin
    /// rim included; HCC's bright capsule (the outer 12 % of the radius, about a third of a small tumour's voxels) may
    /// lift its mean to the liver's, and its median stays below.
    func testTumoursAreHypoAttenuatingAgainstTheLiver() {
        let generator = SyntheticCT(inPlaneVoxels: (64, 52))
        func median(_ v: [Float]) -> Float { v.sorted()[v.count / 2] }
        for i in 0..<9 {
            let s = generator.make(seed: 11, index: i)
            let pairs = zip(s.image.values, s.label.values)
            let liver = median(pairs.filter { $0.1 == 1 }.map(\.0)), tumour = median(pairs.filter { $0.1 == 2 }.map(\.0))
            XCTAssertLessThan(tumour, liver - 8, "case \(i) (\(s.tumourType.rawValue)): tumour \(tumour) HU vs liver \(liver) HU")
            func mean(_ label: Float) -> Float {
                let v = pairs.filter { $0.1 == label }.map(\.0)
                return v.reduce(0, +) / Float(v.count)
            }
            if s.tumourType != .hcc {
                XCTAssertLessThan(mean(2), mean(1) - 8, "case \(i) (\(s.tumourType.rawValue)): mean tumour HU, rim included")
            }
        }
    }

    func testCohortOnDiskWithManifest() throws {
        let dir = try temporaryFolder("synth")
        defer { try? FileManager.default.removeItem(at: dir) }
        try SyntheticCohort.write(cases: 3, to: dir, seed: 1, generator: small)
        let manifest = try String(contentsOf: dir.appendingPathComponent("manifest.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(manifest.first, "image,label,tumor_type,patient_id")
        XCTAssertEqual(manifest.count, 4)
        XCTAssertTrue(manifest[2].hasSuffix(",ICC,P001"))
        let (img, h) = try NIfTI.read(dir.appendingPathComponent("imagesTr/case_001.nii.gz"))
        let (lab, _) = try NIfTI.read(dir.appendingPathComponent("labelsTr/case_001.nii.gz"))
        XCTAssertEqual(h.datatype, .int16)
        XCTAssertNoThrow(try NIfTI.checkPair(image: img, imageFile: "img", label: lab, labelFile: "lab"))
        XCTAssertEqual(img.affine.axisCodes, ["L", "P", "S"])
        XCTAssertEqual(img.values, small.make(seed: 1, index: 1).image.values)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("dataset.json"))) as! [String: Any]
        XCTAssertEqual(json["numTraining"] as? Int, 3)
    }
}
