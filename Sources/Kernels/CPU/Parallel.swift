import Dispatch

/// Wraps a value the compiler cannot prove Sendable; used only where iterations touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable { let value: T }

/// Runs body(i) for i in 0..<n across the cores. Callers guarantee that iterations write disjoint
/// memory, so the result does not depend on scheduling (CPU results stay bit-reproducible).
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    guard n > 1 else { if n == 1 { body(0) }; return }
    withoutActuallyEscaping(body) { b in
        let box = UncheckedSendable(value: b)
        DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
    }
}

/// Runs body(range) for contiguous ranges covering 0..<n, each of at least `grain` items (at most 16
/// ranges), across the cores. Callers guarantee that a range writes only its own items' memory and
/// computes each item the same way whatever the split, so results are bit-identical to one range.
func parallelRanges(_ n: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(16, n / max(grain, 1)))
    parallelFor(parts) { p in body((p * n / parts)..<((p + 1) * n / parts)) }
}

/// Items per range for element-wise loops: small tensors stay on one core.
let elementGrain = 32_768
