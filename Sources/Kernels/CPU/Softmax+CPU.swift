import Foundation

extension CPUBackend {
    public func softmax(x: Tensor, y: Tensor, rows: Int, cols: Int) throws {
        let xp = try ptr(x, "softmax"), yp = try ptr(y, "softmax")
        for r in 0..<rows {
            let o = r * cols
            var m = -Float.infinity
            for j in 0..<cols { m = max(m, xp[o + j]) }
            var s: Float = 0
            for j in 0..<cols { let e = exp(xp[o + j] - m); yp[o + j] = e; s += e }
            let inv = 1 / s
            for j in 0..<cols { yp[o + j] *= inv }
        }
    }

    public func softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor, rows: Int, cols: Int) throws {
        let yp = try ptr(y, "softmaxBackward"), g = try ptr(dy, "softmaxBackward"), d = try ptr(dx, "softmaxBackward")
        let chunks = rows >= 64 ? 8 : 1
        parallelFor(chunks) { chunk in
            for r in stride(from: chunk * rows / chunks, to: (chunk + 1) * rows / chunks, by: 1) {
                let o = r * cols
                var dot: Float = 0
                for j in 0..<cols { dot += g[o + j] * yp[o + j] }
                for j in 0..<cols { d[o + j] = yp[o + j] * (g[o + j] - dot) }
            }
        }
    }
}
