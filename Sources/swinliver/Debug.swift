import ArgumentParser
import Autograd
import Foundation
import Kernels
import Metrics
import Models
import SafeTensors
import Train
import TrainingLoop

struct Debug: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one model call on raw tensors (safetensors in, safetensors out), for checks against PyTorch.",
        subcommands: [DebugParity.self, DebugForward.self, DebugStep.self, DebugSlidingWindow.self])
}

/// Options shared by the debug commands.
struct ModelFileOptions: ParsableArguments {
    @Option(help: "Weights (.safetensors, MONAI key names).")
    var weights: String
    @Option(help: "Model hyper-parameters as JSON (the fixture's config.json or bare constructor args); default: the weights' metadata.")
    var config: String?
    @Option(help: "Input tensors (.safetensors) holding `x` (N, C, D, H, W).")
    var input: String
    @Option(help: "Where to write the result (.safetensors).")
    var output: String
}

func readTensor(_ file: SafeTensorsFile, _ key: String, on backend: Backend) throws -> Tensor {
    try backend.upload(try file.floats(key), shape: Shape(try file.shape(key)), name: "\(file.name):\(key)")
}

struct DebugForward: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "forward", abstract: "Swin UNETR forward pass (eval).")
    @OptionGroup var files: ModelFileOptions
    @OptionGroup var device: DeviceOptions
    @Option(help: "Model: swin-unetr or inception-v3.")
    var model = "swin-unetr"
    @Flag(help: "Also write hidden_states_out.0..4 and the encoder/decoder outputs under MONAI's names.")
    var hidden = false
    @Option(name: .customLong("num-classes"), help: "inception-v3: classes of the head.") var numClasses = 3
    @Flag(name: .customLong("aux-logits"), help: "inception-v3: the weights include AuxLogits.*.") var auxLogits = false
    @Option(help: "inception-v3: mlp (the paper's fc.0/3/6 head) or linear (torchvision's fc).") var head = "mlp"
    @Flag(name: .customLong("transform-input"), help: "inception-v3: torchvision's transform_input (its ImageNet weights use it).")
    var transformInput = false

    func validate() throws {
        guard ["swin-unetr", "inception-v3"].contains(model) else {
            throw ValidationError("--model \(model): use swin-unetr or inception-v3")
        }
        guard ["mlp", "linear"].contains(head) else { throw ValidationError("--head \(head): must be mlp or linear") }
        try check("--num-classes", numClasses, in: 1...10_000)
    }

    func run() throws {
        if model == "inception-v3" { return try inception() }
        let backend = try device.backend()
        let net = try SwinUNETRFile.load(URL(fileURLWithPath: files.weights),
                                         configFile: files.config.map { URL(fileURLWithPath: $0) }, backend: backend)
        let input = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: files.input))
        let tape = Tape(backend: backend)
        let out = try net.forward(tape.input(try readTensor(input, "x", on: backend)), tape: tape)
        var w = SafeTensorsWriter()
        func put(_ key: String, _ v: Variable) throws { try w.add(key, try backend.download(v.value), shape: v.shape.dims) }
        try put("logits", out.logits)
        if hidden {
            for (i, h) in out.hiddenStates.enumerated() { try put("hidden_states_out.\(i)", h) }
            for (name, v) in out.named { try put(name, v) }
        }
        try w.write(to: URL(fileURLWithPath: files.output))
        print("wrote \(files.output): logits \(out.logits.shape) on \(backend.deviceName)")
    }
}

extension DebugForward {
    /// Inception-v3 in eval mode on `x` (N, 3, H, W): writes `logits`.
    func inception() throws {
        guard ["mlp", "linear"].contains(head) else { throw ValidationError("--head must be mlp or linear") }
        let backend = try device.backend()
        let net = try InceptionV3(classes: numClasses, auxLogits: auxLogits, head: head == "mlp" ? .mlp(dropout: 0.5) : .linear,
                                  backend: backend)
        net.transformInput = transformInput
        try net.load(from: try SafeTensorsFile(contentsOf: URL(fileURLWithPath: files.weights)), backend: backend)
        let tape = Tape(backend: backend, recording: false)
        let x = try readTensor(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: files.input)), "x", on: backend)
        let logits = try net(tape.input(x), tape: tape)
        var w = SafeTensorsWriter()
        try w.add("logits", try backend.download(logits.value), shape: logits.shape.dims)
        try w.write(to: URL(fileURLWithPath: files.output))
        print("wrote \(files.output): logits \(logits.shape) on \(backend.deviceName)")
    }
}

struct DebugStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step", abstract: "One DiceCE + AdamW training step; writes loss, grad.<param>, after_step.<param>.")
    @OptionGroup var files: ModelFileOptions
    @OptionGroup var device: DeviceOptions
    @Option(help: "Labels (.safetensors) holding `y` (N, 1, D, H, W) class ids.")
    var label: String
    @Option var lr: Float = 1e-4
    @Option(name: .customLong("weight-decay")) var weightDecay: Float = 1e-5

    func validate() throws {
        try check("--lr", lr, in: .above(0, 10))
        try check("--weight-decay", weightDecay, in: .closed(0, 10))
    }

    func run() throws {
        let backend = try device.backend()
        let net = try SwinUNETRFile.load(URL(fileURLWithPath: files.weights),
                                         configFile: files.config.map { URL(fileURLWithPath: $0) }, backend: backend)
        let x = try readTensor(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: files.input)), "x", on: backend)
        let y = try readTensor(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: label)), "y", on: backend)
        let step = SegmentationStep(model: net, optimizer: AdamW(hyper: AdamWHyper(lr: lr, weightDecay: weightDecay), backend: backend),
                                    backend: backend)
        let parts = try backend.download(try step(x: x, y: y, update: false))
        var w = SafeTensorsWriter()
        try w.add("loss", [parts[0]], shape: [])
        try w.add("dice_part", [parts[1]], shape: [])
        try w.add("ce_part", [parts[2]], shape: [])
        let params = net.namedParameters()
        for (k, p) in params { if let g = p.grad { try w.add("grad." + k, try backend.download(g), shape: g.shape.dims) } }
        try step.optimizer.update(params)
        for (k, p) in params { try w.add("after_step." + k, try backend.download(p.value), shape: p.value.shape.dims) }
        try w.write(to: URL(fileURLWithPath: files.output))
        print(String(format: "loss %.7f (dice %.7f, ce %.7f) on %@; wrote %@", parts[0], parts[1], parts[2],
                     backend.deviceName, files.output))
    }
}

struct DebugSlidingWindow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sliding-window", abstract: "MONAI sliding_window_inference of Swin UNETR on a raw (N, C, D, H, W) tensor.")
    @OptionGroup var files: ModelFileOptions
    @OptionGroup var device: DeviceOptions
    @Option(help: "Window size, e.g. 96,96,96.") var roi: String = "96,96,96"
    @Option var overlap: Double = 0.5
    @Option(help: "gaussian or constant") var mode: String = "gaussian"
    @Option(name: .customLong("sw-batch")) var swBatch = 1
    @Option(name: .customLong("sigma-scale")) var sigmaScale = 0.125

    func validate() throws {
        _ = try roiTriple(roi, "--roi")
        try check("--overlap", overlap, in: .upTo(0, 1))
        guard SlidingWindowOptions.Mode(rawValue: mode) != nil else { throw ValidationError("--mode \(mode): must be gaussian or constant") }
        try check("--sw-batch", swBatch, in: Limits.batch)
        try check("--sigma-scale", sigmaScale, in: .above(0, 10))
    }

    func run() throws {
        let size = try roiTriple(roi, "--roi")
        let m = SlidingWindowOptions.Mode(rawValue: mode)!
        let backend = try device.backend()
        let net = try SwinUNETRFile.load(URL(fileURLWithPath: files.weights),
                                         configFile: files.config.map { URL(fileURLWithPath: $0) }, backend: backend)
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: files.input))
        let x = try readTensor(file, file.tensors["x"] != nil ? "x" : "input", on: backend)
        let options = SlidingWindowOptions(roi: size, overlap: overlap, mode: m, sigmaScale: sigmaScale, batchSize: swBatch)
        let y = try slidingWindowInference(x, options: options, backend: backend) { windows in
            let tape = Tape(backend: backend, recording: false)
            return try net(tape.input(windows), tape: tape).value
        }
        var w = SafeTensorsWriter()
        try w.add("output", try backend.download(y), shape: y.shape.dims)
        try w.write(to: URL(fileURLWithPath: files.output))
        print("wrote \(files.output): output \(y.shape) on \(backend.deviceName)")
    }
}

/// The device check before training on a new device: one train step on the CPU backend and on the device from the
/// same seeded weights, compared tensor by tensor (BackendParity). Exit status 1 when a tensor differs by more than
/// the tolerance.
struct DebugParity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity", abstract: "One Swin UNETR train step on the CPU backend and on a device, compared tensor by tensor.")
    @Option(help: "The device to check: opencl or opencl:N (default: SWINLIVER_DEVICE, else the fastest).") var device: String?
    @Option(name: .customLong("feature-size")) var featureSize = 12
    @Option(help: "Cubic ROI edge (a multiple of 32, at least 64).") var roi = 64
    @Option var batch = 1
    @Option var seed: UInt64 = 0
    @Option(help: "Smallest bound on max |a − b| / max |b| per tensor (raised to 3× the CPU's own reordering difference).")
    var tolerance = 2e-3
    @Option(help: "Rows of the table (the largest differences).") var top = 10
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func validate() throws {
        try checkFeatureSize(featureSize)
        try checkROI([roi, roi, roi], "--roi", shown: "\(roi)")
        try check("--batch", batch, in: Limits.batch)
        try check("--tolerance", tolerance, in: .above(0, 1))
        try check("--top", top, in: 0...10_000)
    }

    func run() throws {
        let spec = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment)
        guard spec != .cpu else {
            throw ValidationError("--device: the check compares a device with the CPU backend; name an OpenCL device (opencl:N)")
        }
        let target = try spec.makeBackend()
        let config = SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: featureSize)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let report = try BackendParity.trainStep(config: config, size: [roi, roi, roi], batch: batch, seed: seed,
                                                 reference: CPUBackend(), reordered: cores > 1 ? CPUBackend(cores: 1) : nil,
                                                 device: target, tolerance: tolerance)
        if json {
            print(JSONValue.object([
                ("device", .string(target.deviceName)), ("feature_size", .integer(featureSize)), ("roi", .integer(roi)),
                ("batch", .integer(batch)), ("tensors", .integer(report.rows.count)), ("tolerance", .number(report.tolerance)),
                ("worst_bound", .number(report.worst.bound)),
                ("cpu_reorder_difference", report.reorderNoise.map { .number($0) } ?? .string("not measured (one core)")),
                ("worst_tensor", .string(report.worst.name)), ("worst_relative", .number(report.worst.relative)),
                ("passed", .bool(report.passed)),
            ]).text())
        } else {
            print("train-step parity, \(target.deviceName) against the CPU backend: feature \(featureSize), roi \(roi)³, batch \(batch)")
            print("| tensor | difference: max abs(a − b) / max abs(b); after_step: / lr | allowed |\n|---|---|---|")
            let byMargin = report.rows.sorted { a, b in   // NaN first, then the largest difference / bound
                let x = a.relative / a.bound, y = b.relative / b.bound
                return x.isNaN ? !y.isNaN : (!y.isNaN && x > y)
            }
            for r in byMargin.prefix(top) {
                print("| \(r.name) | " + String(format: "%.2e | %.2e", r.relative, r.bound) + " |")
            }
            let noise = report.reorderNoise.map { String(format: "%.2e", $0) } ?? "not measured (one core)"
            print("allowed: max(\(tolerance), 3 × the CPU backend's own difference, all cores vs one: per output for logits and loss, per kind for gradients and updated parameters; largest \(noise))")
            print(report.passed ? "parity: PASSED (\(report.rows.count) tensors within their bounds)"
                                : "parity: FAILED (\(report.rows.filter { !($0.relative <= $0.bound) }.count) of \(report.rows.count) tensors beyond their bounds)")
        }
        if !report.passed { throw ExitCode(1) }
    }
}
