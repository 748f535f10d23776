import Foundation
import SeededRandom

/// One synthetic portal-venous abdominal CT with its liver/tumour label (0 background, 1 liver, 2 tumour).
public struct SyntheticCase: Sendable {
    public var image: Volume        // HU
    public var label: Volume        // 0 / 1 / 2
    public var tumourType: TumourType
    public var tumourCount: Int
}

/// A deterministic generator of abdominal CT phantoms: body outline, subcutaneous fat, muscle wall,
/// spine, kidneys, aorta / IVC, a liver of varied shape with portal vessels, and tumours whose looks
/// differ by type (HCC: mostly single, round, washed out below the liver in this portal-venous phase
/// (LI-RADS "washout") with a mosaic interior and a bright enhancing capsule; ICC: fairly uniform, hypo-attenuating,
/// lobulated, irregular margin, thin rim near liver level; CRLM: several, target-like — a necrotic centre far darker than
/// the viable ring, a faint halo). Sizes and HU ranges of the types overlap, so no single HU cue separates them; the
/// structure does. Spacing is anisotropic, as in real scans.
public struct SyntheticCT: Sendable {
    /// In-plane grid; the field of view stays about 30–38 cm, so smaller grids mean coarser voxels.
    public var inPlaneVoxels = (256, 208)

    public init(inPlaneVoxels: (Int, Int) = (256, 208)) { self.inPlaneVoxels = inPlaneVoxels }

    struct Sphere { var c: [Double]; var r: [Double] }

    /// Case `index` of the cohort with seed `seed` (the same on every machine).
    public func make(seed: UInt64, index: Int) -> SyntheticCase {
        var rng = SplitMix64(seed: seed &* 0x9e37_79b9_7f4a_7c15 &+ UInt64(index) &+ 1)
        let type = TumourType.allCases[index % 3]
        let sx = rng.uniform(1.15, 1.45) * 256 / Double(inPlaneVoxels.0), sz = [2.5, 3.0, 4.0, 5.0][Int(rng.next() % 4)]
        let (nx, ny) = inPlaneVoxels
        let nz = Int((rng.uniform(170, 230) / sz).rounded())
        // World frame in mm: x → patient left (R→L is -x in RAS), y → anterior, z → superior; centre at 0.
        func world(_ i: Int, _ j: Int, _ k: Int) -> [Double] {
            [(Double(i) - Double(nx - 1) / 2) * sx, (Double(j) - Double(ny - 1) / 2) * sx, (Double(k) - Double(nz - 1) / 2) * sz]
        }
        // Body and organs
        let bodyA = rng.uniform(135, 165), bodyB = rng.uniform(100, 120)
        let fat = rng.uniform(8, 22)
        let liverHU = rng.uniform(95, 125), enhancement = rng.uniform(0.85, 1.15)
        // The liver: a right-upper-quadrant union of ellipsoids, varied per case (patient's right = -x here... RAS +x is left).
        let lc = [-rng.uniform(45, 70), rng.uniform(0, 25), rng.uniform(10, 40)]
        var liver = [Sphere(c: lc, r: [rng.uniform(60, 80), rng.uniform(55, 75), rng.uniform(55, 80)])]
        liver.append(Sphere(c: [lc[0] + rng.uniform(35, 55), lc[1] + rng.uniform(5, 20), lc[2] + rng.uniform(-5, 20)],
                            r: [rng.uniform(35, 50), rng.uniform(30, 45), rng.uniform(30, 45)]))
        liver.append(Sphere(c: [lc[0] - rng.uniform(5, 15), lc[1] - rng.uniform(10, 25), lc[2] - rng.uniform(25, 45)],
                            r: [rng.uniform(35, 50), rng.uniform(35, 50), rng.uniform(30, 45)]))
        let wobble = (0..<6).map { _ in rng.uniform(0, 2 * .pi) }
        func liverField(_ p: [Double]) -> Double {   // < 1 inside
            var best = Double.infinity
            for s in liver {
                let q = (0..<3).map { (p[$0] - s.c[$0]) / s.r[$0] }
                best = min(best, (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).squareRoot())
            }
            return best + 0.06 * sin(p[0] / 17 + wobble[0]) * sin(p[1] / 23 + wobble[1]) + 0.05 * sin(p[2] / 19 + wobble[2])
        }
        // Tumours inside the liver
        var tumours: [(center: [Double], radius: Double, lobes: [Sphere])] = []
        let count = type == .crlm ? 2 + Int(rng.next() % 4) : (type == .hcc ? (rng.uniform(0, 1) < 0.8 ? 1 : 2) : 1 + Int(rng.next() % 2))
        var attempts = 0
        while tumours.count < count && attempts < 400 {
            attempts += 1
            let radius: Double
            switch type {
            case .hcc: radius = rng.uniform(10, 30)
            case .icc: radius = rng.uniform(12, 32)
            case .crlm: radius = rng.uniform(7, 22)
            }
            let s = liver[Int(rng.next() % UInt64(liver.count))]
            let c = (0..<3).map { s.c[$0] + rng.uniform(-0.6, 0.6) * s.r[$0] }
            guard liverField(c) < 0.75 - radius / 120 else { continue }
            var lobes: [Sphere] = []
            if type == .icc {
                for _ in 0..<(2 + Int(rng.next() % 3)) {
                    let o = (0..<3).map { _ in rng.uniform(-0.6, 0.6) * radius }
                    lobes.append(Sphere(c: (0..<3).map { c[$0] + o[$0] }, r: [radius * rng.uniform(0.45, 0.75)]))
                }
            }
            tumours.append((c, radius, lobes))
        }
        // Type signatures (portal-venous phase). Their HU ranges overlap, but each type keeps its structure: HCC a
        // washed-out, mosaic core inside a bright capsule; ICC a fairly uniform hypo-attenuating lobulated mass with a
        // thin rim near liver level; CRLM a target — a necrotic centre far darker than its viable ring (at least 25 HU
        // apart), a faint enhancing halo outside.
        let hccCore = rng.uniform(-45, -20), hccRim = rng.uniform(25, 45), hccMosaic = rng.uniform(6, 14)
        let iccCore = rng.uniform(-50, -25), iccRim = rng.uniform(-10, 10)
        let crlmRing = rng.uniform(-40, -20), crlmNecrosis = rng.uniform(-95, -65)
        let kidneyHU = rng.uniform(150, 200) * enhancement, vesselHU = rng.uniform(150, 190) * enhancement
        let noise = rng.uniform(8, 18)
        let phase = (0..<3).map { _ in rng.uniform(0, 2 * .pi) }
        let kidneyL = Sphere(c: [rng.uniform(60, 75), -rng.uniform(45, 60), rng.uniform(-30, 0)], r: [28, 32, 50])
        let kidneyR = Sphere(c: [-rng.uniform(60, 75), -rng.uniform(45, 60), rng.uniform(-45, -15)], r: [28, 32, 50])
        let aorta = [rng.uniform(10, 25), -rng.uniform(35, 45)], ivc = [-rng.uniform(20, 30), -rng.uniform(30, 40)]
        let spineY = -bodyB + rng.uniform(35, 45)
        // Portal vein branches: tubes from the hilum towards the periphery of the liver.
        let hilum = [lc[0] + rng.uniform(15, 30), lc[1] - rng.uniform(5, 15), lc[2] - rng.uniform(5, 15)]
        let branches: [(a: [Double], b: [Double], r: Double)] = (0..<(4 + Int(rng.next() % 3))).map { _ in
            let s = liver[Int(rng.next() % UInt64(liver.count))]
            let end = (0..<3).map { s.c[$0] + rng.uniform(-0.7, 0.7) * s.r[$0] }
            return (hilum, end, rng.uniform(2.5, 5))
        }
        func segmentDistance(_ p: [Double], _ a: [Double], _ b: [Double]) -> Double {
            let ab = (0..<3).map { b[$0] - a[$0] }, ap = (0..<3).map { p[$0] - a[$0] }
            let t = max(0, min(1, (ab[0] * ap[0] + ab[1] * ap[1] + ab[2] * ap[2]) / max(ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2], 1e-9)))
            return hypot3(p, (0..<3).map { a[$0] + t * ab[$0] })
        }

        var hu = [Float](repeating: 0, count: nx * ny * nz)
        var lab = [Float](repeating: 0, count: nx * ny * nz)
        var noiseRng = SplitMix64(seed: seed ^ UInt64(index) &* 0x2545_f491_4f6c_dd1d)
        for i in 0..<nx { for j in 0..<ny { for k in 0..<nz {
            let p = world(i, j, k)
            var v = -1000.0, l: Float = 0
            let body = (p[0] / bodyA) * (p[0] / bodyA) + (p[1] / bodyB) * (p[1] / bodyB)
            if body < 1 {
                let depth = (1 - body.squareRoot()) * min(bodyA, bodyB)
                v = depth < fat ? -100 + 8 * sin(p[2] / 9 + phase[0]) : (depth < fat + 10 ? 50 : 30 + 6 * sin(p[0] / 13 + phase[1]))
                // spine: vertebral body with a bright cortex
                let dsp = ((p[0] / 22) * (p[0] / 22) + ((p[1] - spineY) / 18) * ((p[1] - spineY) / 18)).squareRoot()
                if dsp < 1 { v = dsp > 0.8 ? 650 : 260 + 40 * sin(p[2] / 6 + phase[2]) }
                for kd in [kidneyL, kidneyR] {
                    let q = (0..<3).map { (p[$0] - kd.c[$0]) / kd.r[$0] }
                    let d = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).squareRoot()
                    if d < 1 { v = d > 0.7 ? kidneyHU : kidneyHU * 0.6 }
                }
                for (vc, r) in [(aorta, 11.0), (ivc, 12.0)] where hypot(p[0] - vc[0], p[1] - vc[1]) < r { v = vesselHU }
                let lf = liverField(p)
                if lf < 1 {
                    v = liverHU * enhancement
                    l = 1
                    // portal branches: bright tubes (part of the liver label, as in LiTS / MSD)
                    for br in branches where segmentDistance(p, br.a, br.b) < br.r { v = vesselHU }
                    for t in tumours {
                        let d = hypot3(p, t.center) / t.radius
                        switch type {
                        case .hcc:
                            if d < 1 {
                                l = 2
                                let mosaic = hccMosaic * sin(p[0] / 4.5 + phase[0]) * sin(p[1] / 5.5 + phase[1])   // nodule-in-nodule
                                v = liverHU * enhancement + (d > 0.88 ? hccRim : hccCore + 10 * (1 - d) + mosaic)
                            }
                        case .crlm:
                            if d < 1 { l = 2; v = liverHU * enhancement + (d < 0.55 ? crlmNecrosis : crlmRing) }
                            else if d < 1.2 { v += 15 }   // faint perilesional halo (target sign)
                        case .icc:
                            var inside = d < 0.6
                            var m = d / 0.6
                            for lobe in t.lobes {
                                let dl = hypot3(p, lobe.c) / lobe.r[0] * (1 + 0.08 * sin(p[0] / 3 + p[1] / 4))  // irregular margin
                                if dl < 1 { inside = true; m = min(m, dl) }
                            }
                            if inside { l = 2; v = liverHU * enhancement + (m > 0.88 ? iccRim : iccCore) }
                        }
                    }
                }
            }
            let idx = (i * ny + j) * nz + k
            hu[idx] = Float((v + noiseRng.gaussian() * noise).rounded())
            lab[idx] = l
        } } }
        // RAS+ world → an LPS-style affine as scanners write (x and y negated), z up.
        let affine = Affine([[-sx, 0, 0, Double(nx - 1) / 2 * sx], [0, -sx, 0, Double(ny - 1) / 2 * sx],
                             [0, 0, sz, -Double(nz - 1) / 2 * sz], [0, 0, 0, 1]])
        let shape = [nx, ny, nz]
        // The generator's x/y are RAS (+x = left); storing them with a negated column keeps anatomy consistent.
        return SyntheticCase(image: Volume(shape: shape, values: hu, affine: affine),
                             label: Volume(shape: shape, values: lab, affine: affine),
                             tumourType: type, tumourCount: tumours.count)
    }
}

@inline(__always) func hypot3(_ a: [Double], _ b: [Double]) -> Double {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2])
    return (x * x + y * y + z * z).squareRoot()
}
