import ArgumentParser
import Foundation
import Kernels

@main
struct SwinLiver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swinliver",
        abstract: "Swin UNETR liver CT segmentation and tumour classification on any OpenCL device.",
        subcommands: [Devices.self, SynthCommand.self, PreprocessCommand.self, PretrainCommand.self, TrainCommand.self,
                      SegmentCommand.self, ExportCommand.self, EvaluateCommand.self, MetricsCommand.self, AblateCommand.self, SSLStudyCommand.self,
                      SlicesCommand.self, ClassifyCommand.self, RunCommand.self, DemoCommand.self, Bench.self, Debug.self])

    /// Exit status: 0 success, 1 an error (its message names the file, option or tensor), 64 a usage error.
    static func main() {
        // A write past a file-size limit then fails with EFBIG, and is reported, instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: PlainError.wrapping(error))
        }
    }
}

/// `--device cpu|opencl|opencl:N` (or SWINLIVER_DEVICE).
struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "cpu, opencl or opencl:N (default: SWINLIVER_DEVICE, else an OpenCL GPU if there is one, else cpu)")
    var device: String?

    @Flag(name: .long, help: "Collect per-kernel OpenCL profiling events.")
    var profile = false

    func backend() throws -> Backend {
        let spec = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment)
        let backend = try spec.makeBackend(profiling: profile)
        if device == nil && ProcessInfo.processInfo.environment["SWINLIVER_DEVICE"] == nil {
            FileHandle.standardError.write("using \(backend.deviceName) (choose with --device)\n".data(using: .utf8)!)
        }
        return backend
    }
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the compute devices SwinLiver can use.")

    func run() throws {
        print("cpu        host CPU (reference backend, OpenBLAS GEMM)")
        let devices = try listOpenCLDevices()
        if devices.isEmpty { print("no OpenCL devices (install an OpenCL driver, e.g. pocl-opencl-icd)") }
        for d in devices {
            print("opencl:\(d.index)  \(d.name)")
            print("           platform: \(d.platform)")
            print("           memory: \(d.globalMemoryBytes / 1_048_576) MiB (largest buffer \(d.maxAllocationBytes / 1_048_576) MiB)")
            print("           compute units: \(d.computeUnits), max work-group \(d.maxWorkGroupSize)")
            print("           version: \(d.version), driver \(d.driverVersion)\(d.isGPU ? ", GPU" : "")")
        }
    }
}
