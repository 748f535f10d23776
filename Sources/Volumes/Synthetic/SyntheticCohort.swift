import AtomicFile
import Foundation

/// Writes a synthetic cohort in the Medical Segmentation Decathlon layout plus SwinLiver's manifest:
/// imagesTr/case_NNN.nii.gz (int16 HU), labelsTr/case_NNN.nii.gz (uint8), dataset.json, manifest.csv
/// (image,label,tumor_type,patient_id). Case i is the same for a given seed on every machine.
public enum SyntheticCohort {
    /// Rows and the first error, filled from the worker threads under a lock.
    private final class Results: @unchecked Sendable {
        let lock = NSLock()
        var rows: [String]
        var failure: Error?
        init(_ n: Int) { rows = [String](repeating: "", count: n) }
        func set(_ i: Int, _ row: String) { lock.lock(); rows[i] = row; lock.unlock() }
        func fail(_ e: Error) { lock.lock(); failure = failure ?? e; lock.unlock() }
    }

    public static func write(cases: Int, to dir: URL, seed: UInt64, generator: SyntheticCT = SyntheticCT(),
                             progress: (@Sendable (Int) -> Void)? = nil) throws {
        let images = dir.appendingPathComponent("imagesTr"), labels = dir.appendingPathComponent("labelsTr")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: labels, withIntermediateDirectories: true)
        let results = Results(cases)
        DispatchQueue.concurrentPerform(iterations: cases) { i in
            let name = String(format: "case_%03d.nii.gz", i)
            let c = generator.make(seed: seed, index: i)
            do {
                try NIfTI.write(c.image, to: images.appendingPathComponent(name), as: .int16)
                try NIfTI.write(c.label, to: labels.appendingPathComponent(name), as: .uint8)
            } catch {
                results.fail(error)
            }
            results.set(i, "imagesTr/\(name),labelsTr/\(name),\(c.tumourType.rawValue),P\(String(format: "%03d", i))")
            progress?(i)
        }
        if let failure = results.failure { throw failure }
        try (["image,label,tumor_type,patient_id"] + results.rows).joined(separator: "\n").appending("\n")
            .writeAtomically(to: dir.appendingPathComponent("manifest.csv"))
        let training = (0..<cases).map { String(format: "{\"image\": \"./imagesTr/case_%03d.nii.gz\", \"label\": \"./labelsTr/case_%03d.nii.gz\"}", $0, $0) }
        let json = """
        {
          "name": "SwinLiver synthetic liver CT",
          "description": "Synthetic portal-venous abdominal CT phantoms with liver and tumour labels (seed \(seed))",
          "tensorImageSize": "3D",
          "modality": {"0": "CT"},
          "labels": {"0": "background", "1": "liver", "2": "tumour"},
          "numTraining": \(cases),
          "training": [\(training.joined(separator: ", "))]
        }

        """
        try json.writeAtomically(to: dir.appendingPathComponent("dataset.json"))
    }
}
