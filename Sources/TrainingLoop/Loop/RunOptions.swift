import Foundation

/// A run's options (pretraining, fine-tuning). Checkpoints store them as this sorted-keys JSON and
/// `--resume` refuses a run whose options do not match it byte for byte.
public protocol RunOptions: Codable {}

extension RunOptions {
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
}
