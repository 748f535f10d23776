import ArgumentParser
import Foundation
import Kernels

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks that print a table.", subcommands: [BenchOps.self])
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
