/// The counter-based hash behind dropout masks; kernels/elementwise.cl (`mix32`, `dropout_mask`)
/// computes the same values, so a seed gives the same mask on every backend.
enum DropoutHash {
    static func mix32(_ v: UInt32) -> UInt32 {
        var x = v
        x ^= x >> 16; x = x &* 0x7feb_352d
        x ^= x >> 15; x = x &* 0x846c_a68b
        x ^= x >> 16
        return x
    }

    /// Uniform in [0, 1) with 24 bits.
    static func uniform(seed: UInt64, index: Int) -> Float {
        let lo = UInt32(truncatingIfNeeded: seed), hi = UInt32(truncatingIfNeeded: seed >> 32)
        let h = mix32(UInt32(truncatingIfNeeded: index) ^ mix32(lo ^ mix32(hi)))
        return Float(h >> 8) * (1 / 16_777_216)
    }
}

extension Backend {
    /// Inverted dropout (PyTorch semantics in train mode): returns y and the mask (0 or 1/(1−p)).
    public func dropout(_ x: Tensor, p: Float, seed: UInt64) throws -> (y: Tensor, mask: Tensor) {
        try Check.that(p >= 0 && p < 1, "dropout", "p must be in [0, 1), got \(p)")
        let mask = try allocate(x.shape, name: "dropout mask")
        try dropoutMask(y: mask, p: p, seed: seed)
        return (try elementwise(.mul, x, mask), mask)
    }

    /// dx = dy · mask
    public func dropoutBackward(dy: Tensor, mask: Tensor) throws -> Tensor {
        try elementwise(.mul, dy, mask)
    }
}
