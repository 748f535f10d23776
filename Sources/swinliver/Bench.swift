import ArgumentParser
import Autograd
import Foundation
import Kernels
import Metrics
import Models
import Train
import TrainingLoop
import Volumes

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks that print a table.", subcommands: [BenchOps.self, BenchTrain.self, BenchSlidingWindow.self, BenchClassify.self, BenchMetrics.self, BenchLoader.self])
}

/// GEMM and Conv3d throughput on every requested backend, side by side.
struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "GEMM and Conv3d GFLOP/s on the CPU backend and on OpenCL.")

    @Option(help: "Comma-separated devices to compare (default: cpu and every OpenCL device).")
    var devices: String?

    @Option(help: "Timed repetitions per case.")
    var repeats = 3

    @Flag(help: "Smaller cases (quick check).")
    var quick = false

    func validate() throws {
        try check("--repeats", repeats, in: 1...1000)
    }

    func run() throws {
        let specs: [DeviceSpecifier]
        if let devices {
            specs = try devices.split(separator: ",").map { try DeviceSpecifier(parsing: String($0)) }
        } else {
            specs = [.cpu] + (try listOpenCLDevices()).map { .opencl(index: $0.index) }
        }
        let backends = try specs.map { try $0.makeBackend() }
        let cases = OpsBenchmark.cases(quick: quick)
        print("| op | shape | " + backends.map { "\($0.deviceName) ms | GFLOP/s" }.joined(separator: " | ")
              + (backends.count > 1 ? " | ratio (last/first) |" : " |"))
        print("|---|---|" + backends.map { _ in "---|---" }.joined(separator: "|") + (backends.count > 1 ? "|---|" : "|"))
        for c in cases {
            var cells: [String] = []
            var rates: [Double] = []
            for b in backends {
                let seconds = try OpsBenchmark.time(c, on: b, repeats: repeats)
                let gflops = c.flops / seconds / 1e9
                rates.append(gflops)
                cells.append(String(format: "%.2f | %.1f", seconds * 1000, gflops))
            }
            let ratio = rates.count > 1 ? String(format: " | %.2f×", rates.last! / rates.first!) : ""
            print("| \(c.name) | \(c.shape) | " + cells.joined(separator: " | ") + ratio + " |")
        }
        for case let cl as OpenCLBackend in backends { try compareConvolutions(on: cl) }
    }

    /// Conv3d forward on one OpenCL device both ways (im2col + CLBlast, implicit GEMM) on Swin UNETR's
    /// encoder shapes at feature 12 (the large f48 / 96³ shapes take minutes on PoCL): what `ConvAlgorithm` to pick.
    func compareConvolutions(on cl: OpenCLBackend) throws {
        print("\nconv3d k3 forward on \(cl.deviceName): im2col + CLBlast vs implicit GEMM (median of \(repeats))")
        print("| input → channels | im2col ms | GFLOP/s | implicit ms | GFLOP/s | implicit / im2col speed |")
        print("|---|---|---|---|---|---|")
        let shapes = quick ? [(12, 12, 32)] : [(12, 12, 64), (24, 24, 32), (48, 48, 16), (96, 96, 16)]
        for (cin, cout, s) in shapes {
            let flops = 2.0 * Double(cout * cin * 27) * pow(Double(s), 3)
            let x = try cl.full(Shape(1, cin, s, s, s), value: 0.1, name: "x")
            let w = try cl.full(Shape(cout, cin, 3, 3, 3), value: 0.01, name: "w")
            let c = OpsBenchmark.Case(name: "conv", shape: "", flops: flops) { b in
                { _ = try b.conv3d(x, weight: w, bias: nil, options: .init(stride: 1, padding: 1)) }
            }
            var ms: [Double] = []
            for algorithm in [ConvAlgorithm.im2col, .implicitGEMM] {
                cl.convAlgorithm = algorithm
                ms.append(try OpsBenchmark.time(c, on: cl, repeats: repeats) * 1000)
            }
            cl.convAlgorithm = .im2col
            print(String(format: "| (1,%d,%d³) → %d | %.2f | %.1f | %.2f | %.1f | %.2f× |", cin, s, cout, ms[0],
                         flops / ms[0] / 1e6, ms[1], flops / ms[1] / 1e6, ms[0] / ms[1]))
        }
    }
}

enum OpsBenchmark {
    struct Case {
        let name: String
        let shape: String
        let flops: Double
        /// Prepares inputs on a backend and returns the timed body.
        let prepare: (Backend) throws -> () throws -> Void
    }

    static func cases(quick: Bool) -> [Case] {
        var list: [Case] = []
        for n in quick ? [256, 512] : [512, 1024, 2048] {
            list.append(Case(name: "sgemm", shape: "\(n)×\(n)×\(n)", flops: 2 * pow(Double(n), 3)) { b in
                let a = try b.full(Shape(n, n), value: 0.5, name: "A"), c = try b.full(Shape(n, n), value: 0.25, name: "B")
                return { _ = try b.matmul(a, c) }
            })
        }
        let (cin, cout, s) = quick ? (12, 24, 24) : (24, 48, 32)
        let conv = 2.0 * Double(cout * cin * 27) * pow(Double(s), 3)
        list.append(Case(name: "conv3d k3 forward", shape: "(1,\(cin),\(s)³)→\(cout)", flops: conv) { b in
            let x = try b.full(Shape(1, cin, s, s, s), value: 0.1, name: "x")
            let w = try b.full(Shape(cout, cin, 3, 3, 3), value: 0.01, name: "w")
            return { _ = try b.conv3d(x, weight: w, bias: nil, options: .init(stride: 1, padding: 1)) }
        })
        list.append(Case(name: "conv3d k3 backward", shape: "(1,\(cin),\(s)³)→\(cout)", flops: 2 * conv) { b in
            let x = try b.full(Shape(1, cin, s, s, s), value: 0.1, name: "x")
            let w = try b.full(Shape(cout, cin, 3, 3, 3), value: 0.01, name: "w")
            let dy = try b.full(Shape(1, cout, s, s, s), value: 1, name: "dy")
            return { _ = try b.conv3dBackward(x, weight: w, dy: dy, options: .init(stride: 1, padding: 1)) }
        })
        return list
    }

    /// Median seconds of `repeats` runs after one warm-up (kernel builds excluded).
    static func time(_ c: Case, on backend: Backend, repeats: Int) throws -> Double {
        let body = try c.prepare(backend)
        try body()
        try backend.synchronize()
        var samples: [Double] = []
        for _ in 0..<max(repeats, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            try backend.synchronize()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return samples.sorted()[samples.count / 2]
    }
}

/// Swin UNETR training steps (DiceCE + AdamW) on random data: time per step, throughput, peak memory,
/// and on OpenCL the per-kernel device time from profiling events.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Swin UNETR train-step benchmark.")

    @Option(name: .customLong("feature-size")) var featureSize = 48
    @Option(help: "Cubic ROI edge (a multiple of 32).") var roi = 96
    @Option var batch = 1
    @Option(help: "Timed steps after one warm-up step.") var steps = 3
    @Option(help: "cpu, opencl or opencl:N (default: SWINLIVER_DEVICE, else an OpenCL GPU if there is one, else cpu)")
    var device: String?
    @Option(help: "Rows of the per-kernel table.") var top = 15
    @Flag(help: "Print one JSON object (ms_per_step, launches_per_step, allocations_per_step, blocking_calls_per_step, peak_device_bytes, ...) instead of the tables.")
    var json = false
    @Flag(help: "Add each kernel's global size range and work-group size to the per-kernel table (all kernels).")
    var launches = false
    @Flag(help: "Add a roofline table: per kernel family the flops, bytes and lower-bound time of a step on an H100 beside the time measured here.")
    var roofline = false
    @Flag(help: "OpenCL: build conv and attention kernels once, reading the geometry from arguments, instead of per layer with -D defines (for comparison).")
    var genericKernels = false
    @Option(help: "OpenCL: the convolution column slab in MiB instead of the device's default (a GPU: 1/64 of its memory, 128–1024; a CPU device: 128), e.g. what another device would take.")
    var columnSlabMib: Int?

    func validate() throws {
        try checkFeatureSize(featureSize)
        try checkROI([roi, roi, roi], "--roi", shown: "\(roi)")
        try check("--batch", batch, in: Limits.batch)
        try check("--steps", steps, in: 1...10_000)
        try check("--top", top, in: 0...10_000)
        if let columnSlabMib { try check("--column-slab-mib", columnSlabMib, in: 1...65_536) }
    }

    func run() throws {
        let spec = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment)
        // Profiling events cost time on the device: --json (what gpu-check compares with MONAI) times without them.
        let backend = try spec.makeBackend(profiling: spec != .cpu && !json)
        if genericKernels { (backend as? OpenCLBackend)?.specializeKernels = false }
        if let columnSlabMib { (backend as? OpenCLBackend)?.columnSlabFloats = columnSlabMib << 18 }
        let config = SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: featureSize)
        let model = try SwinUNETR(config, backend: backend)
        let optimizer = AdamW(hyper: AdamWHyper(lr: 1e-4), backend: backend)
        try optimizer.use(try ParameterArena(model.namedParameters(), backend: backend))
        let step = SegmentationStep(model: model, optimizer: optimizer, backend: backend)
        var rng = Initializer(seed: 1)
        let n = batch * roi * roi * roi
        let images = rng.uniform(n, bound: 1), labels = (0..<n).map { Float(($0 / 97) % 3) }
        let shape = Shape(batch, 1, roi, roi, roi)
        let train = try PipelinedTraining(step: step)
        let say = { (line: String) in if !json { print(line) } }
        say("Swin UNETR feature \(featureSize), \(model.parameterCount) parameters, roi \(roi)³, batch \(batch), on \(backend.deviceName)")
        // Two warm-up steps: kernel builds, and the buffers of a step that runs while the previous one finishes.
        let warm = DispatchTime.now().uptimeNanoseconds
        _ = try train(images: images, labels: labels, imageShape: shape, labelShape: shape) { true }
        var loss = try train(images: images, labels: labels, imageShape: shape, labelShape: shape) { true }!.values[0]
        say(String(format: "warm-up (2 steps): %.0f ms (includes kernel builds), loss %.4f",
                   Double(DispatchTime.now().uptimeNanoseconds - warm) / 1e6, loss))
        let cl = backend as? OpenCLBackend
        if let cl { _ = try cl.profile(reset: true) }
        let before = cl?.counters
        let rooflineBefore = cl?.roofline ?? []
        // Pipelined as in training: the batch is written every step and each loss is read while the next step runs.
        // The counters cover the steps; the final wait for the last loss (finish) is timed but not counted per step.
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<max(steps, 1) { _ = try train(images: images, labels: labels, imageShape: shape, labelShape: shape) { true } }
        let used = cl.map { $0.counters.since(before!) }
        let rooflineRows = cl.map { $0.roofline.since(rooflineBefore) } ?? []
        loss = try train.finish()!.values[0]
        let times = [Double](repeating: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(max(steps, 1)),
                             count: max(steps, 1))
        let median = times.sorted()[times.count / 2]
        let perStep = { (v: Int) in Double(v) / Double(times.count) }
        if json {
            var fields: [(String, JSONValue)] = [
                ("device", .string(backend.deviceName)), ("feature_size", .integer(featureSize)), ("roi", .integer(roi)),
                ("batch", .integer(batch)), ("steps", .integer(times.count)), ("ms_per_step", .number(median)),
                ("peak_device_bytes", .integer(backend.memory.peakBytes)), ("last_loss", .number(Double(loss))),
            ]
            if let used {
                fields += [("launches_per_step", .number(perStep(used.launches))),
                           ("clblast_calls_per_step", .number(perStep(used.clblastCalls))),
                           ("allocations_per_step", .number(perStep(used.allocations))),
                           ("blocking_calls_per_step", .number(perStep(used.blockingCalls))),
                           ("bytes_to_device_per_step", .number(perStep(used.bytesToDevice))),
                           ("bytes_from_device_per_step", .number(perStep(used.bytesFromDevice)))]
            }
            print(JSONValue.object(fields).text())
            return
        }
        print("| device | feature | roi | batch | ms/step (mean of \(times.count), pipelined) | samples/s | peak device memory |")
        print("|---|---|---|---|---|---|---|")
        print(String(format: "| %@ | %d | %d | %d | %.0f | %.3f | %.2f GiB |", backend.deviceName, featureSize, roi, batch,
                     median, Double(batch) / (median / 1000), Double(backend.memory.peakBytes) / 1_073_741_824))
        print(String(format: "last loss %.4f", loss))
        guard let cl, let used else {
            return print("(counters and per-kernel device times come from the OpenCL backend: run with --device opencl)")
        }
        print("\n| per step | kernel launches | CLBlast calls | device allocations | blocking host calls | bytes to device | bytes from device |")
        print("|---|---|---|---|---|---|---|")
        print(String(format: "| mean of %d | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f |", times.count, perStep(used.launches),
                     perStep(used.clblastCalls), perStep(used.allocations), perStep(used.blockingCalls),
                     perStep(used.bytesToDevice), perStep(used.bytesFromDevice)))
        let profile = try cl.profile()
        let total = profile.reduce(0) { $0 + $1.nanoseconds }
        print(launches ? "\n| kernel | calls | global size (min–max) | local | finishing pass: most partials | narrow calls | ms per step | share |\n|---|---|---|---|---|---|---|---|"
                       : "\n| kernel | calls | ms per step | share |\n|---|---|---|---|")
        for k in launches ? profile[...] : profile.prefix(top) {
            let ms = Double(k.nanoseconds) / 1e6 / Double(times.count), share = 100 * Double(k.nanoseconds) / Double(max(total, 1))
            let sizes = k.maxGlobal == 0 ? "(CLBlast) | – | – | –"
                : "\(k.minGlobal)–\(k.maxGlobal) | \(k.local) | \(k.maxPartials > 0 ? String(k.maxPartials) : "–") | \(k.narrowCalls / times.count)"
            print(launches ? String(format: "| %@ | %d | %@ | %.1f | %.1f%% |", k.name, k.calls / times.count, sizes, ms, share)
                           : String(format: "| %@ | %d | %.1f | %.1f%% |", k.name, k.calls / times.count, ms, share))
        }
        if launches {
            let narrow = profile.reduce(0) { $0 + $1.narrowCalls } / times.count
            print("\(narrow) launches per step span fewer than \(ReductionSplit.fillWorkItems) work-items without being the finishing "
                  + "pass of a two-stage reduction over at most \(ReductionSplit.maxFinishingPartials) partials (narrow calls)")
        }
        guard roofline else { return }
        let stepCount = Double(times.count)
        var measured: [String: Double] = [:]
        for k in profile { measured[rooflineFamily(ofKernel: k.name), default: 0] += Double(k.nanoseconds) / 1e6 / stepCount }
        print("\n| kernel family | launches | GFLOP | GB moved | lower bound on \(RooflineProfile.h100.name), ms | measured here, ms |")
        print("|---|---|---|---|---|---|")
        for r in rooflineRows {
            print(String(format: "| %@ | %.0f | %.2f | %.2f | %.2f | %.1f |", r.family, Double(r.launches) / stepCount, r.flops / stepCount / 1e9,
                         r.bytes / stepCount / 1e9, r.h100Seconds / stepCount * 1e3, measured[r.family] ?? 0))
        }
        let lb = rooflineRows.reduce(0) { $0 + $1.h100Seconds } / stepCount * 1e3
        print(String(format: "| **step** | %.0f | %.2f | %.2f | **%.1f** | %.1f |", rooflineRows.reduce(0) { $0 + Double($1.launches) } / stepCount,
                     rooflineRows.reduce(0) { $0 + $1.flops } / stepCount / 1e9, rooflineRows.reduce(0) { $0 + $1.bytes } / stepCount / 1e9, lb,
                     measured.values.reduce(0, +)))
        print("(lower bound: each launch at max(flops / rate, bytes / bandwidth); launch overhead and the host not counted)")
    }
}

/// MONAI sliding_window_inference of a (random-weight) Swin UNETR over a random CT-sized volume: the inference
/// cost of one scan. Peer: bench/monai_sliding_window.py with the same settings.
struct BenchSlidingWindow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sliding-window", abstract: "Sliding-window inference timing on one volume.")
    @Option(help: "Volume size D,H,W (e.g. 256,256,160).") var shape = "256,256,160"
    @Option(name: .customLong("feature-size")) var featureSize = 48
    @Option(help: "Cubic ROI edge (a multiple of 32).") var roi = 96
    @Option(help: "Window overlap (MONAI's overlap).") var overlap = 0.5
    @Option(name: .customLong("sw-batch"), help: "Windows per forward call (MONAI's sw_batch_size).") var swBatch = 1
    @Option(help: "cpu, opencl or opencl:N (default: SWINLIVER_DEVICE, else the fastest)") var device: String?
    @Flag(help: "Print one JSON object.") var json = false

    func grid() throws -> [Int] { try gridSize(shape, "--shape") }

    func validate() throws {
        _ = try grid()
        try checkFeatureSize(featureSize)
        try checkROI([roi, roi, roi], "--roi", shown: "\(roi)")
        try check("--overlap", overlap, in: .upTo(0, 1))
        try check("--sw-batch", swBatch, in: Limits.batch)
    }

    func run() throws {
        let size = try grid()
        let backend = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment).makeBackend()
        let model = try SwinUNETR(SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: featureSize), backend: backend)
        var rng = Initializer(seed: 3)
        let options = SlidingWindowOptions(roi: [roi, roi, roi], overlap: overlap, batchSize: swBatch)
        func infer(_ dims: [Int]) throws -> (ms: Double, windows: Int) {
            let x = try backend.upload(rng.uniform(dims.reduce(1, *), bound: 1), shape: Shape([1, 1] + dims), name: "volume")
            var windows = 0
            let t0 = DispatchTime.now().uptimeNanoseconds
            let y = try slidingWindowInference(x, options: options, backend: backend) { w in
                windows += w.shape[0]
                let tape = Tape(backend: backend, recording: false)
                return try model(tape.input(w), tape: tape).value
            }
            try backend.synchronize()
            _ = y
            return (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6, windows)
        }
        _ = try infer([roi, roi, roi])   // warm-up: kernel builds, one window
        let r = try infer(size)
        if json {
            print(JSONValue.object([
                ("device", .string(backend.deviceName)), ("feature_size", .integer(featureSize)), ("roi", .integer(roi)),
                ("shape", .array(size.map { .integer($0) })), ("overlap", .number(overlap)), ("sw_batch", .integer(swBatch)),
                ("windows", .integer(r.windows)), ("ms", .number(r.ms)), ("peak_device_bytes", .integer(backend.memory.peakBytes)),
            ]).text())
        } else {
            print("| device | feature | roi | volume | overlap | windows | ms | peak device memory |\n|---|---|---|---|---|---|---|---|")
            print(String(format: "| %@ | %d | %d | %@ | %.2f | %d | %.0f | %.2f GiB |", backend.deviceName, featureSize, roi,
                         size.map(String.init).joined(separator: "×"), overlap, r.windows, r.ms,
                         Double(backend.memory.peakBytes) / 1_073_741_824))
        }
    }
}

/// Inception-v3 (the paper's MLP head) training steps on random images: forward, cross-entropy with label smoothing,
/// backward, AdamW over a parameter arena; images per second. Peer: bench/torchvision_inception_step.py.
struct BenchClassify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "classify", abstract: "Inception-v3 train-step benchmark.")
    @Option(help: "Image edge in pixels (299 is the paper's; at least 75).") var size = 299
    @Option var batch = 16
    @Option(help: "Timed steps after one warm-up step.") var steps = 3
    @Option(help: "cpu, opencl or opencl:N (default: SWINLIVER_DEVICE, else the fastest)") var device: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        try check("--size", size, in: 75...1024)
        try check("--batch", batch, in: 1...512)
        try check("--steps", steps, in: 1...10_000)
    }

    func run() throws {
        let backend = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment).makeBackend()
        let model = try InceptionV3(classes: 3, auxLogits: false, head: .mlp(dropout: 0.5), backend: backend, seed: 0)
        model.training = true
        let optimizer = AdamW(hyper: AdamWHyper(lr: 1e-4), backend: backend)
        try optimizer.use(try ParameterArena(model.namedParameters(), backend: backend))
        var rng = Initializer(seed: 5)
        let x = try backend.upload(rng.uniform(batch * 3 * size * size, bound: 1), shape: Shape(batch, 3, size, size), name: "images")
        let classes = (0..<batch).map { $0 % 3 }
        func step(_ k: Int) throws -> Float {
            let tape = Tape(backend: backend)
            let logits = try model.forward(tape.input(x), tape: tape, seed: UInt64(k)).logits
            let loss = try tape.crossEntropy(logits, classes: classes, smoothing: 0.1)
            try optimizer.zeroGradients()
            try tape.backward(loss)
            try optimizer.update(model.namedParameters())
            return try backend.download(loss.value)[0]
        }
        _ = try step(0)
        let t0 = DispatchTime.now().uptimeNanoseconds
        var loss: Float = 0
        for k in 1...steps { loss = try step(k) }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(steps)
        if json {
            print(JSONValue.object([
                ("device", .string(backend.deviceName)), ("size", .integer(size)), ("batch", .integer(batch)),
                ("steps", .integer(steps)), ("ms_per_step", .number(ms)), ("images_per_second", .number(Double(batch) / ms * 1000)),
                ("peak_device_bytes", .integer(backend.memory.peakBytes)), ("last_loss", .number(Double(loss))),
            ]).text())
        } else {
            print("| device | image | batch | ms/step (mean of \(steps)) | images/s | peak device memory |\n|---|---|---|---|---|---|")
            print(String(format: "| %@ | %d² | %d | %.0f | %.1f | %.2f GiB |", backend.deviceName, size, batch, ms,
                         Double(batch) / ms * 1000, Double(backend.memory.peakBytes) / 1_073_741_824))
            print(String(format: "last loss %.4f", loss))
        }
    }
}

/// HD95 / ASSD on a large mask pair: two offset ellipsoids on a 512 × 512 × 200 grid (0.7 × 0.7 × 2.5 mm).
struct BenchMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Surface-distance metric timing.")
    @Option(help: "Grid, e.g. 512,512,200.") var shape = "512,512,200"

    /// `--shape`: three sizes, each 1…1024.
    func grid() throws -> [Int] { try gridSize(shape, "--shape") }

    func validate() throws { _ = try grid() }

    func run() throws {
        let s = try grid()
        func ellipsoid(_ c: [Double], _ r: [Double]) -> [Bool] {
            var m = [Bool](repeating: false, count: s[0] * s[1] * s[2])
            for a in 0..<s[0] { for b in 0..<s[1] { for k in 0..<s[2] {
                let d = pow((Double(a) - c[0]) / r[0], 2) + pow((Double(b) - c[1]) / r[1], 2) + pow((Double(k) - c[2]) / r[2], 2)
                m[(a * s[1] + b) * s[2] + k] = d <= 1
            } } }
            return m
        }
        let mid = s.map { Double($0) / 2 }
        let gt = ellipsoid(mid, [Double(s[0]) * 0.3, Double(s[1]) * 0.25, Double(s[2]) * 0.3])
        let pred = ellipsoid([mid[0] + 6, mid[1] - 4, mid[2] + 2], [Double(s[0]) * 0.29, Double(s[1]) * 0.26, Double(s[2]) * 0.28])
        let t0 = DispatchTime.now().uptimeNanoseconds
        let m = try SegmentationMetrics.compute(gt: gt, pred: pred, shape: s, spacing: [0.7, 0.7, 2.5])
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print("| grid | voxels | Dice | HD95 (mm) | ASSD (mm) | seconds (one core) |")
        print("|---|---|---|---|---|---|")
        print(String(format: "| %@ | %d | %.4f | %.3f | %.3f | %.2f |", shape, gt.count, m.dice, m.hd95, m.assd, seconds))
    }
}

/// Training steps fed by the streaming loader: does the device ever wait for data?
struct BenchLoader: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "loader", abstract: "Loader + train-step benchmark on a dataset.")
    @Option(help: "Dataset folder or manifest (e.g. the output of swinliver synth).") var data: String
    @Option(name: .customLong("feature-size")) var featureSize = 12
    @Option var roi = 64
    @Option var batch = 2
    @Option var workers = 2
    @Option(help: "Epochs to run.") var epochs = 1
    @Option(help: "cpu, opencl or opencl:N") var device: String?

    func validate() throws {
        try checkFeatureSize(featureSize)
        try checkROI([roi, roi, roi], "--roi", shown: "\(roi)")
        try check("--batch", batch, in: Limits.batch)
        try check("--workers", workers, in: Limits.workers)
        try check("--epochs", epochs, in: Limits.epochs)
    }

    func run() throws {
        let spec = try DeviceSpecifier.resolve(device, environment: ProcessInfo.processInfo.environment)
        let backend = try spec.makeBackend()
        let cases = try Dataset.cases(at: URL(fileURLWithPath: data))
        let loader = try PatchLoader(cases: cases, preprocessing: Preprocessing(), sampler: PatchSampler(roi: [roi, roi, roi]),
                                     augmentation: Augmentation(), batchSize: batch, workers: workers, seed: 0,
                                     cache: PreprocessedCache(directory: URL(fileURLWithPath: data).appendingPathComponent(".cache")))
        let model = try SwinUNETR(SwinUNETRConfig(inChannels: 1, outChannels: 3, featureSize: featureSize), backend: backend)
        let step = SegmentationStep(model: model, optimizer: AdamW(hyper: AdamWHyper(lr: 1e-4), backend: backend), backend: backend)
        var stepTimes: [Double] = []
        var loss: Float = .nan
        for e in 0..<epochs {
            try loader.epoch(e) { b in
                let t0 = DispatchTime.now().uptimeNanoseconds
                let shape = Shape([b.count, 1] + b.size)
                let x = try backend.upload(b.images, shape: shape, name: "batch images")
                let y = try backend.upload(b.labels, shape: shape, name: "batch labels")
                loss = try backend.download(try step(x: x, y: y))[0]
                stepTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
        }
        let waits = loader.batchWaits
        let afterFirst = waits.dropFirst().reduce(0, +)
        // A batch that was ready arrives in well under a millisecond (a lock hand-off); 10 ms means the device starved.
        let starved = waits.dropFirst().filter { $0 > 0.01 }.count
        print("| device | feature | roi | batch | workers | batches | s/step | first batch wait (pipeline fill) | total wait after it | batches waited > 10 ms |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(String(format: "| %@ | %d | %d | %d | %d | %d | %.2f | %.2f s | %.3f s | %d |", backend.deviceName, featureSize, roi, batch,
                     workers, waits.count, stepTimes.reduce(0, +) / Double(max(stepTimes.count, 1)), waits.first ?? 0, afterFirst, starved))
        print(starved == 0 ? "the device never waited for data after the first batch"
              : "the device waited for data before \(starved) of \(waits.count - 1) batches")
        print(String(format: "last loss %.4f", loss))
    }
}
