// Swin transformer data movement and attention softmax (MONAI SwinUNETR v1 semantics).
// CPU reference: Sources/Kernels/CPU/Swin+CPU.swift. Shapes are channels-last, as MONAI's blocks.
//
// Window geometry: x (B, D, H, W, C); window (W0, W1, W2); shift (S0, S1, S2); padded (Dp, Hp, Wp),
// each a multiple of the window. Windows (B·nW, N, C), N = W0·W1·W2, windows in (d, h, w) order.
// Token (window w, position n) reads x at ((wd·W0 + id + S0) mod Dp, ...) — MONAI's zero pad at the end,
// torch.roll(-shift), window_partition — and is 0 where that lands in the padding.
#define WINDOW_ARGS const int B, const int D, const int H, const int W, const int C, \
    const int Dp, const int Hp, const int Wp, const int W0, const int W1, const int W2, \
    const int S0, const int S1, const int S2

// (b, d, h, w, c) of flat element i of a channels-last (B, D, H, W, C) tensor.
inline void unravel_bdhwc(const long i, const int D, const int H, const int W, const int C,
                          int* b, int* d, int* h, int* w, int* c) {
    *c = (int)(i % C);
    long t = i / C;
    *w = (int)(t % W); t /= W;
    *h = (int)(t % H); t /= H;
    *d = (int)(t % D);
    *b = (int)(t / D);
}

// windows (B·nW, N, C) <- x (B, D, H, W, C)
__kernel void window_partition(__global const float* x, __global float* windows, WINDOW_ARGS) {
    const int N = W0 * W1 * W2;
    const int nWd = Dp / W0, nWh = Hp / W1, nWw = Wp / W2, nW = nWd * nWh * nWw;
    const long i = get_global_id(0);
    if (i >= (long)B * nW * N * C) return;
    const int c = (int)(i % C);
    const long t = i / C;
    const int n = (int)(t % N);
    const int bw = (int)(t / N);
    const int w = bw % nW, b = bw / nW;
    const int wd = w / (nWh * nWw), wh = (w / nWw) % nWh, ww = w % nWw;
    const int id = n / (W1 * W2), ih = (n / W2) % W1, iw = n % W2;
    const int d = (wd * W0 + id + S0) % Dp, h = (wh * W1 + ih + S1) % Hp, ww_ = (ww * W2 + iw + S2) % Wp;
    float v = 0.0f;
    if (d < D && h < H && ww_ < W) v = x[((((long)b * D + d) * H + h) * W + ww_) * C + c];
    windows[i] = v;
}

// x (B, D, H, W, C) <- windows (B·nW, N, C): the inverse map (window_reverse, roll(+shift), crop).
__kernel void window_merge(__global const float* windows, __global float* x, WINDOW_ARGS) {
    const int N = W0 * W1 * W2;
    const int nWh = Hp / W1, nWw = Wp / W2, nW = (Dp / W0) * nWh * nWw;
    const long i = get_global_id(0);
    if (i >= (long)B * D * H * W * C) return;
    int b, d, h, w, c;
    unravel_bdhwc(i, D, H, W, C, &b, &d, &h, &w, &c);
    const int sd = (d - S0 + Dp) % Dp, sh = (h - S1 + Hp) % Hp, sw = (w - S2 + Wp) % Wp;
    const int win = ((sd / W0) * nWh + sh / W1) * nWw + sw / W2;
    const int n = ((sd % W0) * W1 + sh % W1) * W2 + sw % W2;
    x[i] = windows[(((long)b * nW + win) * N + n) * C + c];
}

// y = softmax(scores + relative position bias (+ shift mask)) over the last axis.
// scores, y: (B·nW, heads, N, N); table (T, heads); rel_index (N rows of index_stride, MONAI's
// index[:N, :N] of the full-window index), exact small integers stored as floats; region (nW, N):
// region id per token, mask = -100 between different regions (has_mask = 0 for unshifted blocks).
__kernel void window_attention_softmax(__global const float* scores, __global const float* table,
                                       __global const float* rel_index, __global const float* region,
                                       __global float* y, const int rows, const int heads, const int N,
                                       const int nW, const int index_stride, const int has_mask) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const int i = r % N, head = (r / N) % heads, w = (r / (N * heads)) % nW;
    const long o = (long)r * N;
    float m = -INFINITY;
    for (int j = 0; j < N; ++j) {
        float v = scores[o + j] + table[(int)rel_index[i * index_stride + j] * heads + head];
        if (has_mask && region[w * N + i] != region[w * N + j]) v += -100.0f;
        y[o + j] = v;
        m = fmax(m, v);
    }
    float s = 0.0f;
    for (int j = 0; j < N; ++j) { const float e = exp(y[o + j] - m); y[o + j] = e; s += e; }
    const float inv = 1.0f / s;
    for (int j = 0; j < N; ++j) y[o + j] *= inv;
}

// out[t, k] = sum over q in [ptr[t], ptr[t+1]) of src[k·stride + list[q]]  (heads k < K).
// The relative position bias gradient: src (K, N·N) summed into table rows by a precomputed CSR
// inverse of the index (deterministic; no atomics). ptr and list hold exact integers as floats.
// L lanes per output (a power of two dividing the work-group of GATHER_WG): the group holds GATHER_WG / L outputs,
// lane l sums list entries l, l + L, ... of its output, and the L sums are added in local memory; beta = 1 adds
// into out (a gradient slot).
#define GATHER_WG 64
__kernel void index_gather_sum(__global const float* src, __global const float* ptr, __global const float* list,
                               __global float* out, const int T, const int K, const int stride, const float beta,
                               const int L) {
    __local float part[GATHER_WG];
    const int lt = get_local_id(0), E = GATHER_WG / L;
    const int e = lt % E, lane = lt / E;
    const int i = get_group_id(0) * E + e;
    float s = 0.0f;
    if (i < T * K) {
        const int t = i / K, k = i % K;
        for (int q = (int)ptr[t] + lane; q < (int)ptr[t + 1]; q += L) s += src[(long)k * stride + (int)list[q]];
    }
    part[lt] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = L / 2; w > 0; w >>= 1) {
        if (lane < w) part[lt] += part[lt + w * E];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && i < T * K) out[i] = beta == 0.0f ? part[lt] : part[lt] + beta * out[i];
}

// PatchMerging (MONAI v1 'merging'): y (B, D2, H2, W2, 8C), chunk k = x[2d+a, 2h+b, 2w+c] with
// (a, b, c) in the order x0..x7 = 000, 100, 010, 001, 110, 101, 011, 111; zero beyond odd edges.
__constant int MERGE_OFFSETS[8][3] = {{0,0,0},{1,0,0},{0,1,0},{0,0,1},{1,1,0},{1,0,1},{0,1,1},{1,1,1}};
// Its inverse: MERGE_INDEX[a][b][c] = k.
__constant int MERGE_INDEX[2][2][2] = {{{0, 3}, {2, 6}}, {{1, 5}, {4, 7}}};

__kernel void patch_merge(__global const float* x, __global float* y, const int B, const int D, const int H,
                          const int W, const int C) {
    const int D2 = (D + 1) / 2, H2 = (H + 1) / 2, W2 = (W + 1) / 2;
    const long i = get_global_id(0);
    if (i >= (long)B * D2 * H2 * W2 * 8 * C) return;
    const int c8 = (int)(i % (8 * C)), k = c8 / C, c = c8 % C;
    long t = i / (8 * C);
    const int w2 = (int)(t % W2); t /= W2;
    const int h2 = (int)(t % H2); t /= H2;
    const int d2 = (int)(t % D2);
    const int b = (int)(t / D2);
    const int d = 2 * d2 + MERGE_OFFSETS[k][0], h = 2 * h2 + MERGE_OFFSETS[k][1], w = 2 * w2 + MERGE_OFFSETS[k][2];
    float v = 0.0f;
    if (d < D && h < H && w < W) v = x[((((long)b * D + d) * H + h) * W + w) * C + c];
    y[i] = v;
}

// dx (B, D, H, W, C) <- dy (B, D2, H2, W2, 8C): patch_merge's adjoint (a gather: the map is one to one).
__kernel void patch_merge_backward(__global const float* dy, __global float* dx, const int B, const int D,
                                   const int H, const int W, const int C) {
    const int D2 = (D + 1) / 2, H2 = (H + 1) / 2, W2 = (W + 1) / 2;
    const long i = get_global_id(0);
    if (i >= (long)B * D * H * W * C) return;
    int b, d, h, w, c;
    unravel_bdhwc(i, D, H, W, C, &b, &d, &h, &w, &c);
    const int k = MERGE_INDEX[d % 2][h % 2][w % 2];
    dx[i] = dy[((((long)b * D2 + d / 2) * H2 + h / 2) * W2 + w / 2) * 8 * C + k * C + c];
}
