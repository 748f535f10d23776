/// How a long sum is cut into two stages on OpenCL: first partial sums over enough work-groups to fill a GPU,
/// each over a slice of at most ~`sliceLength` values; then a finishing pass over the partials. One value of 1
/// means a single stage. The numbers are device-independent, so every device sums in the same order.
enum ReductionSplit {
    /// Work-items a launch should span to fill a GPU (132 SMs × 128 lanes ≈ 16k).
    static let fillWorkItems = 16_384
    /// Longest run a work-item or work-group should sum on its own in float32.
    static let sliceLength = 1024
    /// Most partials per kept output.
    static let maxSlices = 1024

    /// Slices (work-groups) per output when `outputs` sums of `length` values each run one work-group of
    /// `groupSize` per slice (reduce_keep_middle, norm statistics, Dice sums).
    static func groupSlices(outputs: Int, length: Int, groupSize: Int) -> Int {
        let forFill = (fillWorkItems + outputs * groupSize - 1) / max(outputs * groupSize, 1)
        let forAccuracy = (length + groupSize * sliceLength / 8 - 1) / (groupSize * sliceLength / 8)
        let mostUseful = (length + groupSize - 1) / groupSize
        return max(1, min(maxSlices, mostUseful, max(forFill, forAccuracy)))
    }

    /// Slices of the summed axis when one work-item sums each of `outputs` columns of `length` rows
    /// (reduce_middle, LayerNorm's parameter gradients).
    static func columnSlices(outputs: Int, length: Int) -> Int {
        guard length > 32 else { return 1 }
        let forFill = (fillWorkItems + outputs - 1) / max(outputs, 1)
        let forAccuracy = (length + sliceLength / 4 - 1) / (sliceLength / 4)
        let mostUseful = length / 8
        return max(1, min(maxSlices, mostUseful, max(forFill, forAccuracy)))
    }
}
