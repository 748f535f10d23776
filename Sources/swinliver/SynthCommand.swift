import ArgumentParser
import Foundation
import Volumes

/// `swinliver synth`: a synthetic liver CT cohort with ground truth and tumour types.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth", abstract: "Write a synthetic abdominal CT cohort (NIfTI, MSD layout, manifest.csv).")
    @Option var cases = 20
    @Option var out: String
    @Option var seed: UInt64 = 0

    func run() throws {
        guard cases > 0 else { throw ValidationError("--cases must be positive") }
        let start = Date()
        try SyntheticCohort.write(cases: cases, to: URL(fileURLWithPath: out), seed: seed)
        print(String(format: "wrote %d cases to %@ in %.1f s (manifest.csv, dataset.json)", cases, out, Date().timeIntervalSince(start)))
    }
}
