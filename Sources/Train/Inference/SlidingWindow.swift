import Foundation
import Kernels

/// MONAI `sliding_window_inference` settings.
public struct SlidingWindowOptions: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable { case gaussian, constant }
    public var roi: [Int]
    public var overlap: Double = 0.5
    public var mode: Mode = .gaussian
    public var sigmaScale: Double = 0.125
    /// Windows per predictor call (MONAI's sw_batch_size).
    public var batchSize = 1

    public init(roi: [Int], overlap: Double = 0.5, mode: Mode = .gaussian, sigmaScale: Double = 0.125, batchSize: Int = 1) {
        self.roi = roi; self.overlap = overlap; self.mode = mode; self.sigmaScale = sigmaScale; self.batchSize = batchSize
    }
}

/// MONAI's `compute_importance_map`: constant 1, or the (unnormalised) Gaussian outer product with
/// σ = sigmaScale · roi per axis, clamped below at max(min, 1e-3). Shape roi, last axis fastest.
public func importanceMap(roi: [Int], mode: SlidingWindowOptions.Mode, sigmaScale: Double) -> [Float] {
    let count = roi.reduce(1, *)
    guard mode == .gaussian else { return [Float](repeating: 1, count: count) }
    let axes = roi.map { n -> [Float] in
        let sigma = sigmaScale * Double(n)
        return (0..<n).map { k in
            let x = Float(Double(k) - Double(n - 1) / 2)
            return Float(exp(-Double(x * x) / (2 * sigma * sigma)))
        }
    }
    var map = [Float](repeating: 0, count: count)
    var i = 0
    for a in axes[0] { for b in axes[1] { for c in axes[2] { map[i] = a * b * c; i += 1 } } }
    let floor = max(map.min() ?? 0, 1e-3)
    return map.map { max($0, floor) }
}

/// Window starts along one axis (MONAI `_get_scan_interval` + `dense_patch_slices`): size s ≥ roi r.
public func windowStarts(size s: Int, roi r: Int, overlap: Double) -> [Int] {
    let interval = s == r ? r : max(Int(Double(r) * (1 - overlap)), 1)
    var starts: [Int] = []
    var i = 0
    while true {
        let start = i * interval
        starts.append(min(start, s - r))
        if start + r >= s { break }
        i += 1
    }
    return starts
}

/// MONAI `sliding_window_inference` on the device: pads an image smaller than the ROI (zeros, split
/// before/after as MONAI), runs `predictor` on batches of windows, blends with the importance map and
/// crops back. x: (N, C, D, H, W) → (N, outC, D, H, W).
public func slidingWindowInference(_ x: Tensor, options o: SlidingWindowOptions, backend: Backend,
                                   predictor: (Tensor) throws -> Tensor) throws -> Tensor {
    try Check.that(x.shape.rank == 5, "slidingWindowInference", "input must be (N, C, D, H, W), got \(x.shape)")
    try Check.that(o.roi.count == 3 && o.roi.allSatisfy { $0 > 0 } && (0..<1).contains(o.overlap) && o.batchSize > 0,
                   "slidingWindowInference", "roi \(o.roi), overlap \(o.overlap), batch \(o.batchSize) are not valid")
    let (n, c) = (x.shape[0], x.shape[1])
    let size = Array(x.shape.dims[2...])
    let padded = zip(size, o.roi).map { max($0, $1) }
    let before = zip(size, o.roi).map { $0 < $1 ? ($1 - $0) / 2 : 0 }
    let starts = (0..<3).map { windowStarts(size: padded[$0], roi: o.roi[$0], overlap: o.overlap) }
    var windows: [[Int]] = []
    for a in starts[0] { for b in starts[1] { for d in starts[2] { windows.append([a, b, d]) } } }
    let weight = try backend.upload(importanceMap(roi: o.roi, mode: o.mode, sigmaScale: o.sigmaScale),
                                    shape: Shape(o.roi), name: "importance map")
    let roiCount = o.roi.reduce(1, *), sizeCount = size.reduce(1, *)
    var outputs: [Tensor] = []
    for sample in 0..<n {
        let image = try backend.allocate(Shape([c] + padded), name: "padded image")
        try backend.boxCopy(src: x, srcOffset: sample * c * sizeCount, srcBox: size, dst: image, dstOffset: 0, dstBox: padded,
                            channels: c, offset: before.map { -$0 })
        var sum: Tensor?, count: Tensor?
        var first = 0
        while first < windows.count {
            let batch = Array(windows[first..<min(first + o.batchSize, windows.count)])
            let input = try backend.allocate(Shape([batch.count, c] + o.roi), name: "window batch")
            for (k, w) in batch.enumerated() {
                try backend.boxCopy(src: image, srcOffset: 0, srcBox: padded, dst: input, dstOffset: k * c * roiCount,
                                    dstBox: o.roi, channels: c, offset: w)
            }
            let pred = try predictor(input)
            try Check.that(pred.shape.rank == 5 && pred.shape[0] == batch.count && Array(pred.shape.dims[2...]) == o.roi,
                           "slidingWindowInference", "the predictor returned \(pred.shape) for windows \(input.shape)")
            let outC = pred.shape[1]
            if sum == nil {
                sum = try backend.zeros(Shape([outC] + padded), name: "window sum")
                count = try backend.zeros(Shape(padded), name: "window weight")
            }
            for (k, w) in batch.enumerated() {
                try backend.boxAccumulate(src: pred, srcOffset: k * outC * roiCount, roi: o.roi, weight: weight, dst: sum!,
                                          count: count, box: padded, channels: outC, at: w)
            }
            first += batch.count
        }
        guard let sum, let count else { throw ShapeError(op: "slidingWindowInference", "no windows") }
        let outC = sum.shape[0]
        try backend.boxNormalize(x: sum, count: count, channels: outC)
        let cropped = try backend.allocate(Shape([outC] + size), name: "sliding window output")
        try backend.boxCopy(src: sum, srcOffset: 0, srcBox: padded, dst: cropped, dstOffset: 0, dstBox: size,
                            channels: outC, offset: before)
        outputs.append(try cropped.reshaped(Shape([1, outC] + size)))
    }
    return outputs.count == 1 ? outputs[0] : try backend.concat(outputs, axis: 0)
}
