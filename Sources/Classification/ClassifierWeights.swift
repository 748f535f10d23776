import Autograd
import Foundation
import Kernels
import Models
import SafeTensors

/// A trained classifier on disk (classifier.safetensors: torchvision keys, the paper's head as fc.0/3/6, the
/// options, input size and slice settings in the metadata) and patient-level prediction with it.
public enum ClassifierWeights {
    public static let format = "swinliver.inception_v3.v1"

    public static func write(_ model: InceptionV3, options: ClassifierOptions, size: Int, slicing: SliceSettings, to url: URL,
                             backend: Backend) throws {
        var w = SafeTensorsWriter()
        w.metadata = ["format": format, "classes": tumourClassNames.joined(separator: ","), "size": "\(size)",
                      "options": String(decoding: try JSONEncoder().encode(options), as: UTF8.self), "slicing": slicing.metadata]
        try model.stateDict(into: &w, backend: backend)
        try w.write(to: url)
    }

    /// A classifier written by `write`: the model (strictly loaded) and its input size.
    public static func load(_ url: URL, backend: Backend) throws -> (model: InceptionV3, size: Int) {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == format, let size = file.metadata["size"].flatMap(Int.init),
              let json = file.metadata["options"] else {
            throw SliceError(problem: "\(url.path): not a SwinLiver classifier (train one with `swinliver classify train`)")
        }
        let o = try JSONDecoder().decode(ClassifierOptions.self, from: Data(json.utf8))
        let model = try InceptionV3(classes: tumourClassNames.count, auxLogits: o.auxLogits, head: .mlp(dropout: o.dropout), backend: backend)
        try model.load(from: file, backend: backend)
        return (model, size)
    }

    /// How the classifier's training slices were cut (a report cuts its slices the same way).
    public static func slicing(_ url: URL) throws -> SliceSettings {
        try SliceSettings(metadata: try SafeTensorsFile(contentsOf: url).metadata["slicing"], source: url.path)
    }

    /// Slices (size × size each) as one (count, 3, size, size) batch, the image repeated over the 3 channels.
    static func batch(_ images: [[Float]], size: Int, backend: Backend) throws -> Tensor {
        try backend.upload(threeChannels(images), shape: Shape(images.count, 3, size, size), name: "slice batch")
    }

    /// Grey images as (count, 3, …) flattened: each repeated over Inception-v3's 3 input channels.
    static func threeChannels(_ images: [[Float]]) -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(3 * images.reduce(0) { $0 + $1.count })
        for im in images { for _ in 0..<3 { flat += im } }
        return flat
    }

    /// Patient-level probabilities: the mean of the slice softmax outputs (eval mode).
    public static func predict(_ model: InceptionV3, backend: Backend, images: [[Float]], size: Int, batch: Int = 16) throws -> [Double] {
        model.training = false
        var sum = [Double](repeating: 0, count: tumourClassNames.count)
        for start in stride(from: 0, to: images.count, by: batch) {
            let x = try Self.batch(Array(images[start..<min(start + batch, images.count)]), size: size, backend: backend)
            let tape = Tape(backend: backend, recording: false)
            let probs = try backend.download(try backend.softmax(try model(tape.input(x), tape: tape).value))
            for (i, v) in probs.enumerated() { sum[i % sum.count] += Double(v) }
        }
        return sum.map { $0 / Double(max(images.count, 1)) }
    }
}
