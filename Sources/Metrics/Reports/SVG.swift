import Foundation

/// Plain SVG charts for the reports (no dependencies; open in any browser).
public enum SVGChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func header(_ w: Int, _ h: Int, _ title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="\(w)" height="\(h)" fill="white"/>
        <text x="\(w / 2)" y="20" text-anchor="middle" font-size="15" font-weight="bold">\(esc(title))</text>

        """
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as dots) of each group's finite values.
    public static func boxPlot(title: String, yLabel: String, groups: [(name: String, values: [Double])]) -> String {
        let w = max(360, 110 * groups.count + 120), h = 380
        let (left, right, top, bottom) = (70.0, Double(w) - 20, 40.0, Double(h) - 60)
        let all = groups.flatMap { $0.values.filter(\.isFinite) }
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        lo -= pad; hi += pad
        func y(_ v: Double) -> Double { bottom - (v - lo) / (hi - lo) * (bottom - top) }
        var s = header(w, h, title)
        for k in 0...5 {
            let v = lo + (hi - lo) * Double(k) / 5
            s += "<line x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
        }
        s += "<text transform=\"translate(16,\(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>\n"
        let slot = (right - left) / Double(max(groups.count, 1))
        for (i, g) in groups.enumerated() {
            let v = g.values.filter(\.isFinite).sorted()
            let cx = left + slot * (Double(i) + 0.5), color = palette[i % palette.count]
            let missing = g.values.count - v.count
            s += "<text x=\"\(f(cx))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(esc(g.name))</text>\n"
            s += "<text x=\"\(f(cx))\" y=\"\(f(bottom + 34))\" text-anchor=\"middle\" fill=\"#666\">n=\(v.count)\(missing > 0 ? " (+\(missing) NaN/inf)" : "")</text>\n"
            guard !v.isEmpty else { continue }
            let q1 = quantile(v, 0.25), med = quantile(v, 0.5), q3 = quantile(v, 0.75), iqr = q3 - q1
            let wlo = v.first { $0 >= q1 - 1.5 * iqr } ?? v[0], whi = v.last { $0 <= q3 + 1.5 * iqr } ?? v[v.count - 1]
            let bw = min(60, slot * 0.5)
            s += "<line x1=\"\(f(cx))\" x2=\"\(f(cx))\" y1=\"\(f(y(wlo)))\" y2=\"\(f(y(whi)))\" stroke=\"\(color)\"/>\n"
            s += "<rect x=\"\(f(cx - bw / 2))\" y=\"\(f(y(q3)))\" width=\"\(f(bw))\" height=\"\(f(max(y(q1) - y(q3), 1)))\" fill=\"\(color)\" fill-opacity=\"0.25\" stroke=\"\(color)\"/>\n"
            s += "<line x1=\"\(f(cx - bw / 2))\" x2=\"\(f(cx + bw / 2))\" y1=\"\(f(y(med)))\" y2=\"\(f(y(med)))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for o in v where o < wlo || o > whi {
                s += "<circle cx=\"\(f(cx))\" cy=\"\(f(y(o)))\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
        }
        return s + "</svg>\n"
    }

    /// ROC curves with an optional band (e.g. the bootstrap 95% interval of the TPR) per curve.
    public static func roc(title: String, curves: [(name: String, fpr: [Double], tpr: [Double], band: (fpr: [Double], low: [Double], high: [Double])?)]) -> String {
        let (w, h) = (460, 460)
        let (left, right, top, bottom) = (60.0, 440.0, 40.0, 420.0)
        func x(_ v: Double) -> Double { left + v * (right - left) }
        func y(_ v: Double) -> Double { bottom - v * (bottom - top) }
        var s = header(w, h, title)
        for k in 0...5 {
            let v = Double(k) / 5
            s += "<line x1=\"\(f(x(v)))\" x2=\"\(f(x(v)))\" y1=\"\(f(top))\" y2=\"\(f(bottom))\" stroke=\"#eee\"/>\n"
            s += "<line x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(x(v)))\" y=\"\(f(bottom + 16))\" text-anchor=\"middle\">\(String(format: "%.1f", v))</text>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.1f", v))</text>\n"
        }
        s += "<line x1=\"\(f(x(0)))\" y1=\"\(f(y(0)))\" x2=\"\(f(x(1)))\" y2=\"\(f(y(1)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n"
        s += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 34))\" text-anchor=\"middle\">False positive rate</text>\n"
        s += "<text transform=\"translate(18,\(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">True positive rate</text>\n"
        for (i, c) in curves.enumerated() {
            let color = palette[i % palette.count]
            if let b = c.band, !b.fpr.isEmpty {
                let upper = zip(b.fpr, b.high).map { "\(f(x($0))),\(f(y($1)))" }
                let lower = zip(b.fpr, b.low).reversed().map { "\(f(x($0))),\(f(y($1)))" }
                s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
            }
            let pts = zip(c.fpr, c.tpr).filter { $0.0.isFinite && $0.1.isFinite }.map { "\(f(x($0))),\(f(y($1)))" }
            s += "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            s += "<rect x=\"\(f(right - 150))\" y=\"\(f(bottom - 20 - Double(curves.count - i) * 18))\" width=\"12\" height=\"12\" fill=\"\(color)\"/>\n"
            s += "<text x=\"\(f(right - 132))\" y=\"\(f(bottom - 10 - Double(curves.count - i) * 18))\">\(esc(c.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    /// A confusion matrix as a heat map of row-normalised values, with the counts written in.
    public static func confusion(title: String, classes: [String], counts: [[Int]]) -> String {
        let n = classes.count, cell = 90.0
        let (left, top) = (110.0, 70.0)
        let w = Int(left + cell * Double(n) + 30), h = Int(top + cell * Double(n) + 60)
        var s = header(w, h, title)
        for (i, row) in counts.enumerated() {
            let total = Double(max(row.reduce(0, +), 1))
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(top + cell * (Double(i) + 0.5) + 4))\" text-anchor=\"end\">\(esc(classes[i]))</text>\n"
            for (j, c) in row.enumerated() {
                let r = Double(c) / total
                s += "<rect x=\"\(f(left + cell * Double(j)))\" y=\"\(f(top + cell * Double(i)))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"#1f77b4\" fill-opacity=\"\(String(format: "%.3f", 0.08 + 0.9 * r))\" stroke=\"white\"/>\n"
                s += "<text x=\"\(f(left + cell * (Double(j) + 0.5)))\" y=\"\(f(top + cell * (Double(i) + 0.5)))\" text-anchor=\"middle\" fill=\"\(r > 0.5 ? "white" : "black")\">\(c)</text>\n"
                s += "<text x=\"\(f(left + cell * (Double(j) + 0.5)))\" y=\"\(f(top + cell * (Double(i) + 0.5) + 16))\" text-anchor=\"middle\" font-size=\"10\" fill=\"\(r > 0.5 ? "white" : "#444")\">\(String(format: "%.0f%%", 100 * r))</text>\n"
            }
        }
        for j in 0..<n {
            s += "<text x=\"\(f(left + cell * (Double(j) + 0.5)))\" y=\"\(f(top - 8))\" text-anchor=\"middle\">\(esc(classes[j]))</text>\n"
        }
        s += "<text x=\"\(f(left + cell * Double(n) / 2))\" y=\"\(f(top - 28))\" text-anchor=\"middle\" fill=\"#444\">predicted</text>\n"
        s += "<text x=\"\(f(left + cell * Double(n) / 2))\" y=\"\(f(top + cell * Double(n) + 24))\" text-anchor=\"middle\" fill=\"#444\">rows: true class (row-normalised shading)</text>\n"
        return s + "</svg>\n"
    }
}
