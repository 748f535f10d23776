import Foundation

/// A run's record: one JSON object per line in `log.jsonl` (every step's losses, every validation), and
/// a progress bar on the terminal (epoch, step, loss, samples/s, ETA) unless `quiet`. A labelled log (one of
/// several runs side by side) prints a line at the first, every 10th and the last step, prefixed with its label,
/// instead of a redrawn bar.
public final class RunLog {
    public let url: URL
    public let quiet: Bool
    public let label: String?
    private let handle: FileHandle
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let interactive: Bool

    /// Opens `url` for appending (a resumed run continues the same log).
    public init(url: URL, quiet: Bool, label: String? = nil) throws {
        self.url = url
        self.quiet = quiet
        self.label = label
        interactive = label == nil && isatty(STDERR_FILENO) != 0
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends one record (keys sorted, so lines diff cleanly).
    public func record(_ fields: [String: Any]) throws {
        var data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        data.append(0x0A)
        try handle.write(contentsOf: data)
    }

    /// Redraws the progress line (at most 4 times a second; every line when not a terminal, every 10th step).
    public func progress(epoch: Int, epochs: Int, step: Int, steps: Int, loss: Float, samplesPerSecond: Double) {
        guard !quiet else { return }
        let now = Date()
        if interactive {
            guard now.timeIntervalSince(lastDraw) > 0.25 || step == steps else { return }
        } else {
            guard step % 10 == 0 || step == steps || step == 1 else { return }
        }
        lastDraw = now
        let done = Double(step) / Double(max(steps, 1))
        let width = 24, filled = Int(done * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / done * (1 - done) : 0
        let line = (label.map { "\($0): " } ?? "") + String(format: "epoch %d/%d  step %d/%d  %@  loss %.4f  %.2f samples/s  ETA %@",
                          epoch + 1, epochs, step, steps, bar, loss, samplesPerSecond, Self.clock(eta))
        FileHandle.standardError.write(((interactive ? "\r" : "") + line + (interactive ? "" : "\n")).data(using: .utf8)!)
        if interactive && step == steps { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }

    /// A line above the progress bar (validation results, checkpoints).
    public func say(_ text: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(((interactive ? "\r\u{1B}[K" : "") + (label.map { "\($0): " } ?? "") + text + "\n").data(using: .utf8)!)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
