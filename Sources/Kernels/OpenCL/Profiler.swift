import COpenCL

/// Per-kernel device time from OpenCL profiling events (enabled with `profiling: true`).
public struct KernelProfile: Sendable {
    public var name: String
    public var calls: Int
    public var nanoseconds: UInt64
    /// Smallest and largest global size launched, and the work-group size (0 for CLBlast, which sizes its own).
    public var minGlobal = Int.max, maxGlobal = 0, local = 0
    /// Launches that spanned fewer than `ReductionSplit.fillWorkItems` work-items without being the finishing pass of
    /// a two-stage reduction over at most `ReductionSplit.maxFinishingPartials` partials (GPU-shape criterion).
    public var narrowCalls = 0
    /// The most partials a finishing-pass launch of this kernel read (0: not a finishing pass).
    public var maxPartials = 0
}

final class Profiler {
    private var pending: [(String, cl_event)] = []
    private var totals: [String: KernelProfile] = [:]

    func record(_ name: String, _ event: cl_event, global: Int = 0, local: Int = 0, narrow: Bool = false,
                partials: Int? = nil) {
        pending.append((name, event))
        if global > 0 {
            var t = totals[name] ?? KernelProfile(name: name, calls: 0, nanoseconds: 0)
            t.minGlobal = min(t.minGlobal, global)
            t.maxGlobal = max(t.maxGlobal, global)
            t.local = local
            if narrow { t.narrowCalls += 1 }
            t.maxPartials = max(t.maxPartials, partials ?? 0)
            totals[name] = t
        }
    }

    /// A span of several commands (CLBlast's kernels): from the end of `marker` (enqueued just before them) to the
    /// end of `last`.
    func recordSpan(_ name: String, from marker: cl_event, to last: cl_event) { spans.append((name, marker, last)) }
    private var spans: [(String, cl_event, cl_event)] = []

    var pendingCount: Int { pending.count + spans.count }

    /// Reads the finished events' times (the queue must have been finished) into the totals.
    func resolve() throws {
        for (name, event) in pending {
            var start: cl_ulong = 0, end: cl_ulong = 0
            let s1 = clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_START), 8, &start, nil)
            let s2 = clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil)
            clReleaseEvent(event)
            try check(s1, "clGetEventProfilingInfo", kernel: name)
            try check(s2, "clGetEventProfilingInfo", kernel: name)
            totals[name, default: KernelProfile(name: name, calls: 0, nanoseconds: 0)].calls += 1
            totals[name]!.nanoseconds += end &- start
        }
        pending.removeAll()
        for (name, marker, last) in spans {
            var start: cl_ulong = 0, end: cl_ulong = 0
            let s1 = clGetEventProfilingInfo(marker, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &start, nil)
            let s2 = clGetEventProfilingInfo(last, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil)
            clReleaseEvent(marker)
            clReleaseEvent(last)
            try check(s1, "clGetEventProfilingInfo", kernel: name)
            try check(s2, "clGetEventProfilingInfo", kernel: name)
            totals[name, default: KernelProfile(name: name, calls: 0, nanoseconds: 0)].calls += 1
            totals[name]!.nanoseconds += end > start ? end - start : 0
        }
        spans.removeAll()
    }

    func report() -> [KernelProfile] { totals.values.filter { $0.calls > 0 }.sorted { $0.nanoseconds > $1.nanoseconds } }
    func reset() {
        for k in totals.keys {
            totals[k]!.calls = 0
            totals[k]!.nanoseconds = 0
            totals[k]!.minGlobal = .max
            totals[k]!.maxGlobal = 0
            totals[k]!.narrowCalls = 0
            totals[k]!.maxPartials = 0
        }
    }

    deinit {
        for (_, e) in pending { clReleaseEvent(e) }
        for (_, m, e) in spans { clReleaseEvent(m); clReleaseEvent(e) }
    }
}
