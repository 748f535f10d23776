/// Where a backward op puts one of its gradients (llm.c's rule: parameter gradients accumulate, `+=`; activation
/// gradients are new tensors).
///
/// The tape chooses per input: `.skip` for an input that takes no gradient (the image a first convolution reads),
/// `.accumulate(slot)` for a parameter whose gradient lives in a parameter arena (the op adds into the slot itself:
/// a GEMM with beta = 1, a reduction's finishing pass adding — no temporary, no second pass to add it), `.new`
/// otherwise. An op returns the tensor it wrote: the new one, the slot, or nil when skipped.
public enum GradientOutput {
    case skip
    case new
    case accumulate(into: Tensor)

    public var isNeeded: Bool { if case .skip = self { false } else { true } }

    /// The slot, when the gradient is to be added in place.
    public var slot: Tensor? { if case let .accumulate(t) = self { t } else { nil } }

    /// Whether a kernel writing this gradient adds to what is there (the slot) instead of overwriting.
    public var accumulates: Bool { slot != nil }

    /// For an op that can only overwrite its output: a slot becomes a new tensor (the tape then adds it in).
    public var overwriting: GradientOutput { if case .accumulate = self { .new } else { self } }

    /// The tensor a kernel writes: the slot, or a new uninitialised one (nil when skipped).
    public func target(_ shape: Shape, name: String, on backend: Backend) throws -> Tensor? {
        switch self {
        case .skip: return nil
        case .new: return try backend.allocate(shape, name: name)
        case let .accumulate(slot):
            try Check.shape(slot, shape, name)
            return slot
        }
    }

    /// The tensor a kernel adds into: the slot, or a new one filled with zeros (nil when skipped).
    public func zeroedTarget(_ shape: Shape, name: String, on backend: Backend) throws -> Tensor? {
        if case .new = self { return try backend.zeros(shape, name: name) }
        return try target(shape, name: name, on: backend)
    }
}
