extension CPUBackend {
    public func reduceSum(x: Tensor, dims: Dims3, keep: Dims3.Keep, y: Tensor) throws {
        let xp = try ptr(x, "reduceSum"), yp = try ptr(y, "reduceSum")
        switch keep {
        case .middle:
            for b in 0..<dims.mid {
                var s: Double = 0
                for a in 0..<dims.outer {
                    let row = (a * dims.mid + b) * dims.inner
                    for c in 0..<dims.inner { s += Double(xp[row + c]) }
                }
                yp[b] = Float(s)
            }
        case .outer:
            for a in 0..<dims.outer {
                for c in 0..<dims.inner {
                    var s: Double = 0
                    for b in 0..<dims.mid { s += Double(xp[(a * dims.mid + b) * dims.inner + c]) }
                    yp[a * dims.inner + c] = Float(s)
                }
            }
        }
    }
}
