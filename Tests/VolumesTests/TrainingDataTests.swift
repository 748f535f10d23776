import Foundation
import TestSupport
import Volumes
import XCTest

/// Augmentation, positive/negative cropping, dataset layouts, patient splits and the streaming loader.
final class TrainingDataTests: XCTestCase {
    func ramp(_ s: [Int]) -> Patch {
        let n = s.reduce(1, *)
        return Patch(size: s, image: (0..<n).map(Float.init), label: (0..<n).map { Float($0 % 3) })
    }

    func testFlipsAndRotationsAreExactPermutations() {
        let p = ramp([3, 4, 5])
        XCTAssertEqual(Augmentation.flip(Augmentation.flip(p, axis: 1), axis: 1), p)
        let f = Augmentation.flip(p, axis: 2)
        XCTAssertEqual(f.image[0], 4)   // (0,0,0) ← (0,0,4)
        let r = Augmentation.rotate90(p, k: 1)
        XCTAssertEqual(r.size, [4, 3, 5])
        XCTAssertEqual(Augmentation.rotate90(r, k: 3), p)
        // torch.rot90(x, 1, dims=(0, 1))[a, b] = x[b, n1 − 1 − a] (n1 = 4): out[1, 2] = x[2, 2]
        XCTAssertEqual(r.image[(1 * 3 + 2) * 5 + 0], p.image[(2 * 4 + 2) * 5 + 0])
        XCTAssertEqual(Augmentation.zoom(p, factor: 1).image, p.image)
        XCTAssertEqual(Set(Augmentation.zoom(p, factor: 1.1).label).isSubset(of: [0, 1, 2]), true)
        var rng = SampleRandom(seed: 1)
        XCTAssertEqual(Augmentation.none(p, &rng), p)
    }

    func testPositiveNegativeCropsFollowTheRatio() {
        var lab = [Float](repeating: 0, count: 40 * 40 * 20)
        for a in 25..<30 { for b in 5..<10 { for c in 8..<12 { lab[(a * 40 + b) * 20 + c] = 2 } } }
        let aff = Affine.diagonal([1, 1, 1])
        let image = Volume(shape: [40, 40, 20], values: lab.map { $0 * 10 }, affine: aff)
        let label = Volume(shape: [40, 40, 20], values: lab, affine: aff)
        var rng = SampleRandom(seed: 9)
        let sampler = PatchSampler(roi: [16, 16, 32], positive: 1, negative: 1, samples: 200)
        let patches = sampler(image: image, label: label, &rng)
        XCTAssertEqual(patches.count, 200)
        XCTAssertTrue(patches.allSatisfy { $0.size == [16, 16, 32] })   // depth 20 < 32: padded
        let withTumour = patches.filter { $0.label.contains(2) }.count
        XCTAssertEqual(Double(withTumour) / 200, 0.5, accuracy: 0.15)
        var rng2 = SampleRandom(seed: 9)
        XCTAssertEqual(sampler(image: image, label: label, &rng2), patches, "seeded")
        // RandCropByLabelClasses: class 2 (tumour) centres in 2 of 3 crops; absent class 1 gets no share.
        var byClass = sampler
        byClass.classRatios = [1, 5, 2]
        var rng3 = SampleRandom(seed: 4)
        let centred = byClass(image: image, label: label, &rng3)
        let withTumourByClass = Double(centred.filter { $0.label.contains(2) }.count) / 200
        XCTAssertTrue((0.62...0.85).contains(withTumourByClass), "\(withTumourByClass): 2/3 tumour-centred plus background crops that reach it")
    }

    func testDatasetLayoutsAndSplits() throws {
        let dir = try temporaryFolder("datasets")
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = SyntheticCT(inPlaneVoxels: (40, 32))
        try SyntheticCohort.write(cases: 4, to: dir.appendingPathComponent("msd"), seed: 2, generator: small)
        let fromManifest = try Dataset.cases(at: dir.appendingPathComponent("msd"))
        XCTAssertEqual(fromManifest.count, 4)
        XCTAssertEqual(fromManifest[2].tumourType, .crlm)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("msd/manifest.csv"))
        let fromJSON = try Dataset.cases(at: dir.appendingPathComponent("msd"))
        XCTAssertEqual(fromJSON.map(\.label), fromManifest.map(\.label))
        let lits = dir.appendingPathComponent("lits")
        try FileManager.default.createDirectory(at: lits, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fromManifest[0].image, to: lits.appendingPathComponent("volume-7.nii.gz"))
        try FileManager.default.copyItem(at: fromManifest[0].label!, to: lits.appendingPathComponent("segmentation-7.nii.gz"))
        let l = try Dataset.cases(at: lits)
        XCTAssertEqual(l.count, 1)
        XCTAssertEqual(l[0].label?.lastPathComponent, "segmentation-7.nii.gz")
        XCTAssertThrowsError(try Dataset.cases(at: dir.appendingPathComponent("nothing")))

        let patients = (0..<20).map { "P\($0)" }
        let file = dir.appendingPathComponent("split.json")
        let s = try Split.load(or: file, patients: patients, seed: 5)
        XCTAssertEqual(s.trainPatients.count, 14)
        XCTAssertTrue(Set(s.trainPatients).isDisjoint(with: s.validationPatients))
        XCTAssertEqual(try Split.load(or: file, patients: patients, seed: 99), s, "reused from the file")
        XCTAssertThrowsError(try Split.load(or: file, patients: patients + ["new"], seed: 5))
    }

    /// A stratified split keeps each group's share on both sides (of 6 / 5 / 5 patients, 1 or 2 of each
    /// held out, 5 in all), is seeded, and a plain split still works when no patient has a group.
    func testStratifiedSplitKeepsEveryGroupOnBothSides() {
        let patients = (0..<16).map { String(format: "P%03d", $0) }
        let strata = Dictionary(uniqueKeysWithValues: patients.enumerated().map { ($1, ["HCC", "ICC", "CRLM"][$0 % 3]) })
        for seed in UInt64(0)..<20 {
            let s = Split.make(patients: patients, strata: strata, seed: seed)
            XCTAssertEqual(s.trainPatients.count, 11)
            XCTAssertEqual(Set(s.trainPatients + s.validationPatients), Set(patients))
            XCTAssertTrue(Set(s.trainPatients).isDisjoint(with: s.validationPatients))
            for group in ["HCC", "ICC", "CRLM"] {
                let held = s.validationPatients.filter { strata[$0] == group }.count
                XCTAssertTrue((1...2).contains(held), "seed \(seed): \(held) \(group) patients held out")
            }
            XCTAssertEqual(Split.make(patients: patients, strata: strata, seed: seed), s)
        }
        XCTAssertNotEqual(Split.make(patients: patients, strata: strata, seed: 1), Split.make(patients: patients, strata: strata, seed: 2))
        XCTAssertEqual(Split.make(patients: patients, seed: 3).validationPatients.count, 5)
    }

    func testLoaderIsReproducibleAndOrdered() throws {
        let dir = try temporaryFolder("loader")
        defer { try? FileManager.default.removeItem(at: dir) }
        try SyntheticCohort.write(cases: 3, to: dir, seed: 4, generator: SyntheticCT(inPlaneVoxels: (40, 32)))
        let cases = try Dataset.cases(at: dir)
        func run(workers: Int) throws -> [HostBatch] { try run(workers: workers, cached: false) }
        let cacheDir = dir.appendingPathComponent("cache")
        func run(workers: Int, cached: Bool) throws -> [HostBatch] {
            let loader = try PatchLoader(cases: cases, preprocessing: Preprocessing(spacing: [4, 4, 4]),
                                         sampler: PatchSampler(roi: [16, 16, 16], samples: 2), augmentation: Augmentation(),
                                         batchSize: 4, workers: workers, seed: 11,
                                         cache: cached ? PreprocessedCache(directory: cacheDir) : nil)
            var out: [HostBatch] = []
            try loader.epoch(0) { out.append($0) }
            return out
        }
        let a = try run(workers: 1), b = try run(workers: 3, cached: true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cacheDir.path).count, 6, "image + label per case")
        let c = try run(workers: 2, cached: true)
        XCTAssertEqual(c.map(\.images), a.map(\.images), "from the cache")
        XCTAssertEqual(a.map(\.count), [4, 2])
        XCTAssertEqual(a.map(\.images), b.map(\.images))
        XCTAssertEqual(a.map(\.labels), b.map(\.labels))
        XCTAssertEqual(a[0].images.count, 4 * 16 * 16 * 16)
    }
}
