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
