/// How a long sum is cut into two stages on OpenCL: first partial sums over enough work-groups to fill a GPU,
/// each over a slice of at most ~`sliceLength` values; then a finishing pass over the partials. One value of 1
/// means a single stage. The numbers are device-independent, so every device sums in the same order.
public enum ReductionSplit {
    /// Work-items a launch should span to fill a GPU (132 SMs × 128 lanes ≈ 16k).
    public static let fillWorkItems = 16_384
    /// The most partials a finishing pass that spans fewer work-items reads (a cheap pass: ≤ 256 KiB).
    public static let maxFinishingPartials = 65_536
    /// Longest run a work-item or work-group should sum on its own in float32.
    static let sliceLength = 1024
    /// Most partials per kept output.
    static let maxSlices = 1024

    /// Slices (work-groups) per output when `outputs` sums of `length` values each run one work-group of
    /// `groupSize` per slice (reduce_keep_middle, norm statistics, Dice sums).
    /// The finishing pass of `outputs` sums spans fewer than `fillWorkItems` work-items (one per output, or one
    /// group per output when `groupSize` is given): it may read at most `maxFinishingPartials` partials.
    private static func finishingCap(outputs: Int, groupSize: Int = 1) -> Int {
        outputs * groupSize >= fillWorkItems ? maxSlices : max(1, maxFinishingPartials / max(outputs, 1))
    }

    static func groupSlices(outputs: Int, length: Int, groupSize: Int) -> Int {
        let forFill = (fillWorkItems + outputs * groupSize - 1) / max(outputs * groupSize, 1)
        let forAccuracy = (length + groupSize * sliceLength / 8 - 1) / (groupSize * sliceLength / 8)
        let mostUseful = (length + groupSize - 1) / groupSize
        return max(1, min(maxSlices, mostUseful, finishingCap(outputs: outputs), max(forFill, forAccuracy)))
    }

    /// Slices of the summed axis when one work-item sums each of `outputs` columns of `length` rows
    /// (reduce_middle, LayerNorm's parameter gradients): enough for `fillWorkItems` work-items (slices down to one
    /// row) and for slices of at most ~256 rows, within the finishing pass's partials.
    static func columnSlices(outputs: Int, length: Int) -> Int {
        guard length > 1 else { return 1 }
        let forFill = (fillWorkItems + outputs - 1) / max(outputs, 1)
        let forAccuracy = (length + sliceLength / 4 - 1) / (sliceLength / 4)
        return max(1, min(maxSlices, length, finishingCap(outputs: outputs), max(forFill, forAccuracy)))
    }
}

extension OpenCLBackend {
    /// Lanes per output (a power of two up to `group`) for a kernel that gives each of `outputs` several work-items
    /// and adds their sums in local memory: the fewest that span `ReductionSplit.fillWorkItems` work-items.
    static func lanes(for outputs: Int, group: Int) -> Int {
        var l = 1
        while l < group && outputs * l < ReductionSplit.fillWorkItems { l *= 2 }
        return l
    }
}
