extension CPUBackend {
    public func reduceSum(x: Tensor, dims: Dims3, keep: Dims3.Keep, y: Tensor, accumulate: Bool) throws {
        let xp = try ptr(x, "reduceSum"), yp = try ptr(y, "reduceSum")
        switch keep {
        case .middle:
            // Row order (a outer) keeps the reads sequential; sums in Double, in a fixed order.
            var acc = [Double](repeating: 0, count: dims.mid)
            for a in 0..<dims.outer {
                for b in 0..<dims.mid {
                    let row = (a * dims.mid + b) * dims.inner
                    var s: Double = 0
                    for c in 0..<dims.inner { s += Double(xp[row + c]) }
                    acc[b] += s
                }
            }
            for b in 0..<dims.mid { yp[b] = (accumulate ? yp[b] : 0) + Float(acc[b]) }
        case .outer:
            // Rows of x in memory order, one Double accumulator per output column.
            var acc = [Double](repeating: 0, count: dims.inner)
            for a in 0..<dims.outer {
                for c in 0..<dims.inner { acc[c] = 0 }
                for b in 0..<dims.mid {
                    let row = (a * dims.mid + b) * dims.inner
                    for c in 0..<dims.inner { acc[c] += Double(xp[row + c]) }
                }
                for c in 0..<dims.inner { yp[a * dims.inner + c] = (accumulate ? yp[a * dims.inner + c] : 0) + Float(acc[c]) }
            }
        }
    }
}
