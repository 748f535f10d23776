import Autograd
import Foundation
import Kernels
import Models

/// Grad-CAM (Selvaraju et al. 2017) on Inception-v3's last mixed block (Mixed_7c): the class score's
/// gradient averaged over each feature map weights that map; ReLU of the weighted sum, upsampled
/// (torch bilinear) to the slice and scaled to [0, 1].
public enum GradCAM {
    /// image: one slice (size × size, [0, 1]) → heat map (size × size) for class `target` (nil: the predicted one)
    /// and the class probabilities.
    public static func map(model: InceptionV3, backend: Backend, image: [Float], size: Int, target: Int? = nil) throws
        -> (heat: [Float], probabilities: [Float], target: Int)
    {
        model.training = false
        let x = try backend.upload(image + image + image, shape: Shape(1, 3, size, size), name: "Grad-CAM slice")
        let frozen = Tape(backend: backend, recording: false)
        let last = try model.features(frozen.input(x), tape: frozen).lastMixed.value      // (1, 2048, h, w)
        let tape = Tape(backend: backend)
        let a = tape.input(last, requiresGrad: true)
        let logits = try model.classify(a, tape: tape).logits
        let probs = try backend.download(try backend.softmax(logits.value))
        let k = target ?? probs.indices.max { probs[$0] < probs[$1] }!
        var seed = [Float](repeating: 0, count: probs.count)
        seed[k] = 1
        try tape.backward(logits, seed: try backend.upload(seed, shape: logits.shape, name: "Grad-CAM seed"))
        let (c, h, w) = (last.shape[1], last.shape[2], last.shape[3])
        let grads = try backend.download(a.grad!), acts = try backend.download(last)
        var cam = [Float](repeating: 0, count: h * w)
        for ch in 0..<c {
            let g = grads[ch * h * w..<(ch + 1) * h * w].reduce(0, +) / Float(h * w)
            for i in 0..<(h * w) { cam[i] += g * acts[ch * h * w + i] }
        }
        cam = cam.map { max($0, 0) }
        var up = h == size && w == size ? cam : TumourSlices.bilinear(cam, h: h, w: w, size: size)
        let m = up.max() ?? 0
        up = m > 0 ? up.map { $0 / m } : up
        return (up, probs, k)
    }

    /// The slice in gray with the heat map blended on top (blue → red), as RGB bytes.
    public static func overlay(image: [Float], heat: [Float], alpha: Float = 0.45) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: image.count * 3)
        for i in image.indices {
            let g = min(max(image[i], 0), 1), t = min(max(heat[i], 0), 1)
            let colour: (Float, Float, Float) = (min(max(1.5 - abs(4 * t - 3), 0), 1), min(max(1.5 - abs(4 * t - 2), 0), 1),
                                                 min(max(1.5 - abs(4 * t - 1), 0), 1))
            rgb[3 * i] = UInt8((((1 - alpha) * g + alpha * colour.0) * 255).rounded())
            rgb[3 * i + 1] = UInt8((((1 - alpha) * g + alpha * colour.1) * 255).rounded())
            rgb[3 * i + 2] = UInt8((((1 - alpha) * g + alpha * colour.2) * 255).rounded())
        }
        return rgb
    }
}
