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
    @Option(name: .customLong("in-plane"), help: "In-plane grid I,J (the field of view stays 30–38 cm; smaller grids, coarser voxels).")
    var inPlane = "256,208"

    func validate() throws {
        try check("--cases", cases, in: Limits.cases)
        _ = try inPlaneGrid(inPlane)
    }

    func run() throws {
        let start = Date()
        try SyntheticCohort.write(cases: cases, to: URL(fileURLWithPath: out), seed: seed, generator: try Self.generator(inPlane: inPlane))
        print(String(format: "wrote %d cases to %@ in %.1f s (manifest.csv, dataset.json)", cases, out, Date().timeIntervalSince(start)))
    }

    /// The generator for an `--in-plane I,J` grid.
    static func generator(inPlane: String) throws -> SyntheticCT {
        SyntheticCT(inPlaneVoxels: try inPlaneGrid(inPlane))
    }
}
