import Kernels
import Models

/// One flat device buffer for every parameter's values and one for their gradients (llm.c's layout). Each
/// parameter becomes a view at an aligned offset of the values; its gradient accumulates in place into the
/// matching view of the gradients, so a step allocates no gradient tensors, zeroing every gradient is one fill,
/// and AdamW (with moments laid out the same way) is one launch over the whole arena. Checkpoints and
/// safetensors still see one tensor per MONAI key: the views.
///
/// Build it after the weights are loaded (a checkpoint, a pretrained encoder): afterwards the parameters are
/// updated in place and `Parameter.assign` refuses.
public final class ParameterArena {
    /// (total) — every parameter's values, `slots[k].range` each; the gaps between them hold zeros.
    public let values: Tensor
    /// (total) — the gradients, same layout.
    public let gradients: Tensor
    public let slots: [Slot]
    private let backend: Backend

    public struct Slot {
        public let key: String
        public let parameter: Parameter
        public let range: Range<Int>
    }

    /// Moves `parameters` (key, parameter) into the arena, in the given order; each offset is a multiple of the
    /// backend's view alignment (the device's sub-buffer alignment on OpenCL).
    public init(_ parameters: [(String, Parameter)], backend: Backend) throws {
        self.backend = backend
        let align = backend.viewAlignment
        var ranges: [Range<Int>] = []
        var end = 0
        for (_, p) in parameters {
            ranges.append(end..<(end + p.value.count))
            end = (end + p.value.count + align - 1) / align * align
        }
        values = try backend.zeros(Shape(max(end, 1)), name: "parameter arena")
        gradients = try backend.zeros(Shape(max(end, 1)), name: "gradient arena")
        var slots: [Slot] = []
        for ((key, p), range) in zip(parameters, ranges) {
            let value = try backend.view(of: values, offset: range.lowerBound, shape: p.value.shape, name: key)
            try backend.copy(p.value, into: value)
            let grad = try backend.view(of: gradients, offset: range.lowerBound, shape: p.value.shape, name: "\(key) grad")
            try p.bind(arenaValue: value, gradient: grad)
            slots.append(Slot(key: key, parameter: p, range: range))
        }
        self.slots = slots
    }

    /// Sets every gradient to zero (one fill): call before each step's backward.
    public func zeroGradients() throws { try backend.fill(gradients, value: 0) }

    /// Element ranges of the arena to update: the slots whose parameter received a gradient on the last tape,
    /// adjacent ones merged (with the alignment gaps between them). One range when every parameter took part.
    public func rangesWithGradients() -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var previousHad = false
        for s in slots {
            let has = s.parameter.grad != nil
            if has && previousHad {
                runs[runs.count - 1] = runs[runs.count - 1].lowerBound..<s.range.upperBound
            } else if has {
                runs.append(s.range)
            }
            previousHad = has
        }
        return runs
    }
}
