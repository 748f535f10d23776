import Foundation

/// Runs a throwing closure on a thread of its own; `wait()` blocks until it is done and returns its
/// value or rethrows its error. The closure must not share mutable state with the caller.
public final class BackgroundJob<Value>: @unchecked Sendable {
    private let body: () throws -> Value
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?

    public init(_ body: @escaping () throws -> Value) {
        self.body = body
        let thread = Thread { [self] in
            result = Result { try self.body() }
            done.signal()
        }
        thread.stackSize = 16 << 20   // the training loop's recursion (autograd backward) wants more than the default
        thread.start()
    }

    public func wait() throws -> Value {
        done.wait()
        done.signal()   // a second wait returns at once
        return try result!.get()
    }
}
