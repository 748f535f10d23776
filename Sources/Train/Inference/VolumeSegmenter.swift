import Autograd
import Foundation
import Kernels
import Models
import Volumes

/// Swin UNETR over whole preprocessed volumes: sliding-window logits on the device, then on the host
/// the channel softmax and argmax of the downloaded result.
public struct VolumeSegmenter {
    public let model: SwinUNETR
    public let backend: Backend
    public var window: SlidingWindowOptions

    public init(model: SwinUNETR, backend: Backend, window: SlidingWindowOptions) {
        self.model = model; self.backend = backend; self.window = window
    }

    /// image: one preprocessed CT volume (values in [0, 1]) → class probabilities (C, D, H, W), flat.
    public func probabilities(_ image: Volume) throws -> [Float] {
        let x = try backend.upload(image.values, shape: Shape([1, 1] + image.shape), name: "volume \(image.shape)")
        let logits = try slidingWindowInference(x, options: window, backend: backend) { w in
            let tape = Tape(backend: backend, recording: false)
            return try model(tape.input(w), tape: tape).value
        }
        var p = try backend.download(logits)
        let c = model.config.outChannels, s = image.values.count
        for i in 0..<s {
            var m = -Float.infinity
            for k in 0..<c { m = max(m, p[k * s + i]) }
            var sum: Float = 0
            for k in 0..<c { let e = exp(p[k * s + i] - m); p[k * s + i] = e; sum += e }
            for k in 0..<c { p[k * s + i] /= sum }
        }
        return p
    }

    /// Label map (argmax over channels, first maximum wins) of a (C, S) probability or logit array.
    public static func argmax(_ p: [Float], channels c: Int) -> [Float] {
        let s = p.count / c
        return (0..<s).map { i in
            var best = 0
            for k in 1..<c where p[k * s + i] > p[best * s + i] { best = k }
            return Float(best)
        }
    }

    /// image → label map on the same grid.
    public func labels(_ image: Volume) throws -> Volume {
        Volume(shape: image.shape, values: Self.argmax(try probabilities(image), channels: model.config.outChannels),
               affine: image.affine)
    }
}
