/// A training or inference run that cannot go on: what and where (a file, a folder, an option).
public struct TrainingError: Error, CustomStringConvertible, Equatable {
    public let subject: String
    public let problem: String
    public init(_ subject: String, _ problem: String) { self.subject = subject; self.problem = problem }
    public var description: String { "\(subject): \(problem)" }
}
