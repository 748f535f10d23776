// Convolution by im2col + GEMM (CLBlast). Conv3d, Conv2d (D = 1) and the transposed
// convolutions are all built from these two rearrangements (Sources/Kernels/Ops/Convolution.swift).
// Output depth is processed in slabs [d0, d0 + nd) to bound the column buffer.
// CPU reference: Sources/Kernels/CPU/Conv+CPU.swift.
//
// Geometry (one sample): input (C, D, H, W), output (Do, Ho, Wo), kernel (KD, KH, KW),
// stride (SD, SH, SW), padding (PD, PH, PW). It arrives as kernel arguments and, when the program was built for
// one layer (CONV_FIXED, Sources/Kernels/OpenCL/KernelDefines.swift), as -D defines that replace them, so the
// divisions and modulos of the index arithmetic fold to multiplications by constants.
#define GEOMETRY_ARGS const int C_, const int D_, const int H_, const int W_, \
    const int Do_, const int Ho_, const int Wo_, const int KD_, const int KH_, const int KW_, \
    const int SD_, const int SH_, const int SW_, const int PD_, const int PH_, const int PW_
#ifdef CONV_FIXED
#define GEOMETRY const int C = CONV_C, D = CONV_D, H = CONV_H, W = CONV_W, Do = CONV_DO, Ho = CONV_HO, Wo = CONV_WO, \
    KD = CONV_KD, KH = CONV_KH, KW = CONV_KW, SD = CONV_SD, SH = CONV_SH, SW = CONV_SW, PD = CONV_PD, PH = CONV_PH, \
    PW = CONV_PW
#else
#define GEOMETRY const int C = C_, D = D_, H = H_, W = W_, Do = Do_, Ho = Ho_, Wo = Wo_, KD = KD_, KH = KH_, KW = KW_, \
    SD = SD_, SH = SH_, SW = SW_, PD = PD_, PH = PH_, PW = PW_
#endif

// col + col_off (C*KD*KH*KW, nd*Ho*Wo) from x + x_off (C, D, H, W); zero where the window hits padding. A group of
// samples is one launch per sample into consecutive column blocks (the launcher).
__kernel void im2col(__global const float* x, const int x_off, __global float* col_all, const int col_off, GEOMETRY_ARGS,
                     const int d0, const int nd) {
    __global float* col = col_all + col_off;
    GEOMETRY;
    const int ncol = nd * Ho * Wo;
    const int K = KD * KH * KW;
    const int i = get_global_id(0);   // < 2^31: the launcher checks the slab
    if (i >= C * K * ncol) return;
    const int r = i / ncol, j = i % ncol;
    const int ow = j % Wo, oh = (j / Wo) % Ho, od = d0 + j / (Wo * Ho);
    const int kw = r % KW, kh = (r / KW) % KH, kd = (r / (KW * KH)) % KD, c = r / K;
    const int id = od * SD - PD + kd, ih = oh * SH - PH + kh, iw = ow * SW - PW + kw;
    float v = 0.0f;
    if (id >= 0 && id < D && ih >= 0 && ih < H && iw >= 0 && iw < W)
        v = x[x_off + ((c * D + id) * H + ih) * W + iw];
    col[i] = v;
}

// dx + dx_off (C, D, H, W) gets the columns col + col_off of slab [d0, d0+nd) folded back (gather form, no
// atomics): added into the input depths below `fresh` (an earlier slab wrote them), written over the depths from
// `fresh` on. Launched over input depths [id0, id0 + nid) (Ops/Convolution.swift, col2imLaunchDepths).
__kernel void col2im(__global const float* col_all, const int col_off, __global float* dx, const int dx_off, GEOMETRY_ARGS,
                     const int d0, const int nd, const int id0, const int nid, const int fresh) {
    __global const float* col = col_all + col_off;
    GEOMETRY;
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
    const int at = dx_off + ((c * D + id) * H + ih) * W + iw;
    dx[at] = id < fresh ? dx[at] + s : s;
}

// Implicit-GEMM convolution forward (one sample): y + y_off (O, Do·Ho·Wo) = W (O, C·K) · im2col(x + x_off),
// the columns gathered tile by tile into local memory instead of a column buffer in global memory.
// Work-groups of 128 (16 × 8) own a 32 × 64 tile of y; each work-item sums a 4 × 4 block over k in tiles of
// 16 (rows ty + 8i, columns tx + 16j: neighbouring work-items write neighbouring columns).
#define IG_TM 32
#define IG_TN 64
#define IG_TK 16
// Launched with work-groups of exactly 128 (the tile loops assume it).
__kernel void conv_forward_implicit(__global const float* x, const int x_off, __global const float* w, __global float* y,
                           const int y_off, const int O, GEOMETRY_ARGS) {
    GEOMETRY;
    const int N = Do * Ho * Wo, KV = KD * KH * KW, K = C * KV;
    const int groupsN = (N + IG_TN - 1) / IG_TN;
    const int n0 = (get_group_id(0) % groupsN) * IG_TN, m0 = (get_group_id(0) / groupsN) * IG_TM;
    const int tid = get_local_id(0), tx = tid % 16, ty = tid / 16;
    __local float As[IG_TK][IG_TM];
    __local float Bs[IG_TK][IG_TN];
    float acc[4][4];
    for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += IG_TK) {
        for (int l = tid; l < IG_TM * IG_TK; l += 128) {
            const int m = l / IG_TK, k = l % IG_TK, gm = m0 + m, gk = k0 + k;
            As[k][m] = (gm < O && gk < K) ? w[(long)gm * K + gk] : 0.0f;
        }
        for (int l = tid; l < IG_TK * IG_TN; l += 128) {
            const int k = l / IG_TN, n = l % IG_TN, gk = k0 + k, gn = n0 + n;
            float v = 0.0f;
            if (gk < K && gn < N) {
                const int kw = gk % KW, kh = (gk / KW) % KH, kd = (gk / (KW * KH)) % KD, c = gk / KV;
                const int ow = gn % Wo, oh = (gn / Wo) % Ho, od = gn / (Wo * Ho);
                const int id = od * SD - PD + kd, ih = oh * SH - PH + kh, iw = ow * SW - PW + kw;
                if (id >= 0 && id < D && ih >= 0 && ih < H && iw >= 0 && iw < W)
                    v = x[x_off + ((long)(c * D + id) * H + ih) * W + iw];
            }
            Bs[k][n] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < IG_TK; ++k) {
            float a[4], b[4];
            for (int i = 0; i < 4; ++i) a[i] = As[k][ty + 8 * i];
            for (int j = 0; j < 4; ++j) b[j] = Bs[k][tx + 16 * j];
            for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < 4; ++i) {
        const int m = m0 + ty + 8 * i;
        if (m >= O) continue;
        for (int j = 0; j < 4; ++j) {
            const int n = n0 + tx + 16 * j;
            if (n < N) y[y_off + (long)m * N + n] = acc[i][j];
        }
    }
}
