// Convolution by im2col + GEMM (CLBlast). Conv3d, Conv2d (D = 1) and the transposed
// convolutions are all built from these two rearrangements (Sources/Kernels/Ops/Convolution.swift).
// Output depth is processed in slabs [d0, d0 + nd) to bound the column buffer.
// CPU reference: Sources/Kernels/CPU/Conv+CPU.swift.
//
// Geometry (one sample): input (C, D, H, W), output (Do, Ho, Wo), kernel (KD, KH, KW),
// stride (SD, SH, SW), padding (PD, PH, PW).
#define GEOMETRY_ARGS const int C, const int D, const int H, const int W, \
    const int Do, const int Ho, const int Wo, const int KD, const int KH, const int KW, \
    const int SD, const int SH, const int SW, const int PD, const int PH, const int PW

// col (C*KD*KH*KW, nd*Ho*Wo) from x + x_off (C, D, H, W); zero where the window hits padding.
__kernel void im2col(__global const float* x, const int x_off, __global float* col, GEOMETRY_ARGS,
                     const int d0, const int nd) {
    const int ncol = nd * Ho * Wo;
    const int K = KD * KH * KW;
    const long i = get_global_id(0);
    if (i >= (long)C * K * ncol) return;
    const int r = (int)(i / ncol), j = (int)(i % ncol);
    const int ow = j % Wo, oh = (j / Wo) % Ho, od = d0 + j / (Wo * Ho);
    const int kw = r % KW, kh = (r / KW) % KH, kd = (r / (KW * KH)) % KD, c = r / K;
    const int id = od * SD - PD + kd, ih = oh * SH - PH + kh, iw = ow * SW - PW + kw;
    float v = 0.0f;
    if (id >= 0 && id < D && ih >= 0 && ih < H && iw >= 0 && iw < W)
        v = x[x_off + ((c * D + id) * H + ih) * W + iw];
    col[i] = v;
}

// dx + dx_off (C, D, H, W) += the columns of slab [d0, d0+nd) folded back (gather form, no atomics).
// Launched over input depths [id0, id0 + nid), the only ones this slab touches.
__kernel void col2im(__global const float* col, __global float* dx, const int dx_off, GEOMETRY_ARGS,
                     const int d0, const int nd, const int id0, const int nid) {
    const int i = get_global_id(0);
    if (i >= C * nid * H * W) return;
    const int iw = i % W, ih = (i / W) % H, id = id0 + (i / (W * H)) % nid, c = i / (W * H * nid);
    const int ncol = nd * Ho * Wo;
    float s = 0.0f;
    for (int kd = 0; kd < KD; ++kd) {
        const int td = id + PD - kd;
        if (td < 0 || td % SD) continue;
        const int od = td / SD;
        if (od < d0 || od >= d0 + nd) continue;
        for (int kh = 0; kh < KH; ++kh) {
            const int th = ih + PH - kh;
            if (th < 0 || th % SH) continue;
            const int oh = th / SH;
            if (oh >= Ho) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int tw = iw + PW - kw;
                if (tw < 0 || tw % SW) continue;
                const int ow = tw / SW;
                if (ow >= Wo) continue;
                const int r = ((c * KD + kd) * KH + kh) * KW + kw;
                s += col[(long)r * ncol + ((od - d0) * Ho + oh) * Wo + ow];
            }
        }
    }
    dx[dx_off + ((c * D + id) * H + ih) * W + iw] += s;
}
