import Foundation

/// A NaN or infinite loss: the step was not applied.
public struct NonFiniteLoss: Error, CustomStringConvertible {
    public let values: [String: Float]
    public let inputFinite: Bool
    /// The step (counted from 0 in this run) whose loss it was, where the caller knows it.
    public let step: Int?
    public init(values: [String: Float], inputFinite: Bool, step: Int? = nil) {
        self.values = values
        self.inputFinite = inputFinite
        self.step = step
    }
    public var likelyCause: String {
        inputFinite ? "the learning rate is probably too high (or the loss diverged): lower --lr or lengthen the warm-up"
                    : "the input batch holds NaN or inf voxels: check the CT files"
    }
    public var description: String {
        "non-finite loss\(step.map { " at step \($0)" } ?? "") (\(values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))); \(likelyCause)"
    }
}
