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

    func run() throws {
        guard cases > 0 else { throw ValidationError("--cases must be positive") }
        let start = Date()
        try SyntheticCohort.write(cases: cases, to: URL(fileURLWithPath: out), seed: seed, generator: try Self.generator(inPlane: inPlane))
        print(String(format: "wrote %d cases to %@ in %.1f s (manifest.csv, dataset.json)", cases, out, Date().timeIntervalSince(start)))
    }

    /// The generator for an `--in-plane I,J` grid.
    static func generator(inPlane: String) throws -> SyntheticCT {
        let grid = inPlane.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard grid.count == 2, grid.allSatisfy({ $0 >= 16 }) else { throw ValidationError("--in-plane needs I,J (each at least 16)") }
        return SyntheticCT(inPlaneVoxels: (grid[0], grid[1]))
    }
}
