// Fused shifted-window multi-head self-attention (MONAI SwinUNETR v1), forward and backward.
// CPU reference: Sources/Kernels/CPU/WindowAttention+CPU.swift; host side: Sources/Kernels/Ops/WindowAttention.swift.
//
// qkv (B, D, H, W, 3C) channels-last, per token [3][heads][hd], hd = C / heads. Window geometry as in
// swin.cl: window (W0, W1, W2), shift (S0, S1, S2), padded (Dp, Hp, Wp); window slot (bw, n) reads token
// ((wd·W0 + id + S0) mod Dp, ...) and, where that lies in the padding, the qkv Linear's bias `pad`.
// Scores s_ij = (scale q_i)·k_j + table[index[i, j], head] (− 100 between shift regions); the forward
// stores each row's log-sum-exp, and the backward recomputes P_ij = exp(s_ij − lse_i) from it. A padded query
// (a slot in the padding) has no output and no gradient: its row is skipped.
// Nothing of size N × N or (B·nW, N, C) is written to global memory.
// The geometry arrives as kernel arguments and, when the program was built for one Swin stage (ATTN_FIXED,
// Sources/Kernels/OpenCL/KernelDefines.swift), as -D defines that replace all but the batch: the slot arithmetic
// folds to constants and the per-row arrays have exactly the head dimension (registers, not scratch).
#define ATTN_ARGS const int B, const int D_, const int H_, const int W_, const int C_, \
    const int Dp_, const int Hp_, const int Wp_, const int W0_, const int W1_, const int W2_, \
    const int S0_, const int S1_, const int S2_, const int heads_, const int index_stride, const int has_mask
#ifdef ATTN_FIXED
#define ATTN_GEOMETRY const int D = ATTN_D, H = ATTN_H, W = ATTN_W, C = ATTN_C, Dp = ATTN_DP, Hp = ATTN_HP, \
    Wp = ATTN_WP, W0 = ATTN_W0, W1 = ATTN_W1, W2 = ATTN_W2, S0 = ATTN_S0, S1 = ATTN_S1, S2 = ATTN_S2, heads = ATTN_HEADS
#define MAX_HD (ATTN_C / ATTN_HEADS)
#else
#define ATTN_GEOMETRY const int D = D_, H = H_, W = W_, C = C_, Dp = Dp_, Hp = Hp_, Wp = Wp_, W0 = W0_, W1 = W1_, \
    W2 = W2_, S0 = S0_, S1 = S1_, S2 = S2_, heads = heads_
#define MAX_HD 64
#endif
// The forward's inputs, and what the backward kernels read besides them.
#define ATTN_INPUTS __global const float* qkv, __global const float* pad, __global const float* table, \
    __global const float* rel_index, __global const float* region
#define ATTN_SAVED __global const float* dy, __global const float* lse, __global const float* rowdot

// Flat token index (b, d, h, w) read by window slot (bw, n), or −1 in the padding.
inline long slot_source(const int bw, const int n, const int B, const int D, const int H, const int W,
                        const int Dp, const int Hp, const int Wp, const int W0, const int W1, const int W2,
                        const int S0, const int S1, const int S2) {
    const int nWh = Hp / W1, nWw = Wp / W2, nW = (Dp / W0) * nWh * nWw;
    const int w = bw % nW, b = bw / nW;
    const int wd = w / (nWh * nWw), wh = (w / nWw) % nWh, ww = w % nWw;
    const int id = n / (W1 * W2), ih = (n / W2) % W1, iw = n % W2;
    const int d = (wd * W0 + id + S0) % Dp, h = (wh * W1 + ih + S1) % Hp, x = (ww * W2 + iw + S2) % Wp;
    if (d >= D || h >= H || x >= W) return -1;
    return (((long)b * D + d) * H + h) * W + x;
}
#define SOURCE(bw, n) slot_source(bw, n, B, D, H, W, Dp, Hp, Wp, W0, W1, W2, S0, S1, S2)

// The row of qkv a slot reads: the token's, or the pad bias.
inline __global const float* slot_qkv(__global const float* qkv, __global const float* pad, const long src, const int C) {
    return src >= 0 ? qkv + src * 3 * C : pad;
}

// Bias and shift mask of score (i, j) of window w (of the sample), head h.
inline float score_bias(__global const float* table, __global const float* rel_index, __global const float* region,
                        const int i, const int j, const int w, const int h, const int N, const int heads,
                        const int index_stride, const int has_mask) {
    float b = table[(int)rel_index[i * index_stride + j] * heads + h];
    if (has_mask && region[w * N + i] != region[w * N + j]) b += -100.0f;
    return b;
}

// The row kernels below give each row L work-items ("lanes", a power of two dividing ATTN_WG, an argument): lane l
// takes keys (or queries) l, l + L, ... and the lanes' partial results are combined in local memory, so a small
// stage (few rows) still spans enough work-items to fill a GPU; L = 1 at the large stages does a row in one
// work-item. Work-groups of ATTN_WG hold ATTN_WG / L rows. No work-item returns before the last barrier.
#define ATTN_WG 64

// Adds the L lanes' vectors v[t·MAX_HD ...] (n values each) of every row of the group into its lane 0.
inline void lanes_sum(__local float* v, const int t, const int lane, const int L, const int n) {
    for (int w = L / 2; w > 0; w >>= 1) {
        if (lane < w) for (int d = 0; d < n; ++d) v[t * MAX_HD + d] += v[(t + w) * MAX_HD + d];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

// One row (bw, h, i) per L lanes, i fastest. y (B, D, H, W, C); lse (B·nW·heads·N), 0 for a padded query.
// Each lane keeps an online softmax over its keys (running max m, sum l, output o); the lanes' three are merged.
__kernel void window_attention_forward(ATTN_INPUTS, __global float* y, __global float* lse,
                                       ATTN_ARGS, const int L) {
    ATTN_GEOMETRY;
    __local float lm[ATTN_WG], ll[ATTN_WG], lo[ATTN_WG * MAX_HD];
    const int N = W0 * W1 * W2, nW = (Dp / W0) * (Hp / W1) * (Wp / W2), hd = C / heads;
    const int t = get_local_id(0), lane = t % L;
    const long r = get_global_id(0) / L, rows = (long)B * nW * heads * N;
    const int i = (int)(r % N), h = (int)((r / N) % heads), bw = (int)(r / ((long)N * heads));
    const long si = r < rows ? SOURCE(bw, i) : -1;   // a padded query: no output, and the backward skips its row
    const float scale = rsqrt((float)hd);
    float q[MAX_HD], o[MAX_HD];
    float m = -INFINITY, l = 0.0f;
    for (int d = 0; d < hd; ++d) o[d] = 0.0f;
    if (si >= 0) {
        __global const float* qi = qkv + si * 3 * C + h * hd;
        for (int d = 0; d < hd; ++d) q[d] = qi[d] * scale;
        for (int j = lane; j < N; j += L) {
            __global const float* kj = slot_qkv(qkv, pad, SOURCE(bw, j), C) + C + h * hd;
            __global const float* vj = kj + C;
            float s = 0.0f;
            for (int d = 0; d < hd; ++d) s += q[d] * kj[d];
            s += score_bias(table, rel_index, region, i, j, bw % nW, h, N, heads, index_stride, has_mask);
            if (s > m) {   // online softmax: rescale what was summed under the old maximum
                const float corr = exp(m - s);
                l *= corr;
                for (int d = 0; d < hd; ++d) o[d] *= corr;
                m = s;
            }
            const float p = exp(s - m);
            l += p;
            for (int d = 0; d < hd; ++d) o[d] += p * vj[d];
        }
    }
    lm[t] = m; ll[t] = l;
    for (int d = 0; d < hd; ++d) lo[t * MAX_HD + d] = o[d];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = L / 2; w > 0; w >>= 1) {
        if (lane < w && lm[t + w] > -INFINITY) {   // merge lane t + w's softmax into lane t's
            const float m1 = lm[t], m2 = lm[t + w], mx = fmax(m1, m2);
            const float c1 = m1 > -INFINITY ? exp(m1 - mx) : 0.0f, c2 = exp(m2 - mx);
            ll[t] = ll[t] * c1 + ll[t + w] * c2;
            for (int d = 0; d < hd; ++d) lo[t * MAX_HD + d] = lo[t * MAX_HD + d] * c1 + lo[(t + w) * MAX_HD + d] * c2;
            lm[t] = mx;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane != 0 || r >= rows) return;
    if (si < 0) { lse[r] = 0.0f; return; }
    lse[r] = lm[t] + log(ll[t]);
    const float inv = 1.0f / ll[t];
    for (int d = 0; d < hd; ++d) y[si * C + h * hd + d] = lo[t * MAX_HD + d] * inv;
}

// rowdot[r] = dO_i · O_i (= Σ_j P_ij dP_ij) per query row; 0 for a padded query (no upstream gradient). L lanes
// per row split the head dimension.
__kernel void window_attention_row_dot(__global const float* y, __global const float* dy, __global float* rowdot,
                                       ATTN_ARGS, const int L) {
    ATTN_GEOMETRY;
    __local float part[ATTN_WG];
    const int N = W0 * W1 * W2, nW = (Dp / W0) * (Hp / W1) * (Wp / W2), hd = C / heads;
    const int t = get_local_id(0), lane = t % L;
    const long r = get_global_id(0) / L, rows = (long)B * nW * heads * N;
    const int i = (int)(r % N), h = (int)((r / N) % heads), bw = (int)(r / ((long)N * heads));
    const long si = r < rows ? SOURCE(bw, i) : -1;
    float s = 0.0f;
    if (si >= 0) for (int d = lane; d < hd; d += L) s += dy[si * C + h * hd + d] * y[si * C + h * hd + d];
    part[t] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = L / 2; w > 0; w >>= 1) {
        if (lane < w) part[t] += part[t + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && r < rows) rowdot[r] = part[t];
}

// One query row (bw, h, i) per L lanes: dq_i = scale Σ_j dS_ij k_j, written into dqkv's q part.
__kernel void window_attention_backward_q(ATTN_INPUTS, ATTN_SAVED,
                                          __global float* dqkv, ATTN_ARGS, const int L) {
    ATTN_GEOMETRY;
    __local float acc[ATTN_WG * MAX_HD];
    const int N = W0 * W1 * W2, nW = (Dp / W0) * (Hp / W1) * (Wp / W2), hd = C / heads;
    const int t = get_local_id(0), lane = t % L;
    const long r = get_global_id(0) / L, rows = (long)B * nW * heads * N;
    const int i = (int)(r % N), h = (int)((r / N) % heads), bw = (int)(r / ((long)N * heads));
    const long si = r < rows ? SOURCE(bw, i) : -1;   // a padded query: no gradient, and its q is not a token's
    const float scale = rsqrt((float)hd);
    float q[MAX_HD], dO[MAX_HD], dq[MAX_HD];
    for (int d = 0; d < hd; ++d) dq[d] = 0.0f;
    if (si >= 0) {
        __global const float* qi = qkv + si * 3 * C + h * hd;
        for (int d = 0; d < hd; ++d) { q[d] = qi[d] * scale; dO[d] = dy[si * C + h * hd + d]; }
        const float l = lse[r], rd = rowdot[r];
        for (int j = lane; j < N; j += L) {
            __global const float* kj = slot_qkv(qkv, pad, SOURCE(bw, j), C) + C + h * hd;
            __global const float* vj = kj + C;
            float s = 0.0f, dp = 0.0f;
            for (int d = 0; d < hd; ++d) { s += q[d] * kj[d]; dp += dO[d] * vj[d]; }
            s += score_bias(table, rel_index, region, i, j, bw % nW, h, N, heads, index_stride, has_mask);
            const float ds = exp(s - l) * (dp - rd);
            for (int d = 0; d < hd; ++d) dq[d] += ds * kj[d];
        }
    }
    for (int d = 0; d < hd; ++d) acc[t * MAX_HD + d] = dq[d];
    barrier(CLK_LOCAL_MEM_FENCE);
    lanes_sum(acc, t, lane, L, hd);
    if (lane == 0 && si >= 0) for (int d = 0; d < hd; ++d) dqkv[si * 3 * C + h * hd + d] = acc[t * MAX_HD + d] * scale;
}

// One key slot (bw, h, j) per L lanes (the lanes split the queries): dk_j = Σ_i dS_ij (scale q_i), dv_j =
// Σ_i P_ij dO_i, written into dqkv's k and v parts; a padded key's pair goes to pad_grad (B·nW·heads·N, 2·hd) for
// the pad-bias sum when want_pad (else nowhere: nobody wants the pad bias's gradient).
__kernel void window_attention_backward_kv(ATTN_INPUTS, ATTN_SAVED,
                                           __global float* dqkv, __global float* pad_grad, const int want_pad,
                                           ATTN_ARGS, const int L) {
    ATTN_GEOMETRY;
    __local float acc[ATTN_WG * MAX_HD];
    const int N = W0 * W1 * W2, nW = (Dp / W0) * (Hp / W1) * (Wp / W2), hd = C / heads;
    const int t = get_local_id(0), lane = t % L;
    const long r = get_global_id(0) / L, rows = (long)B * nW * heads * N;
    const bool live = r < rows;
    const int j = (int)(r % N), h = (int)((r / N) % heads), bw = (int)(r / ((long)N * heads));
    const float scale = rsqrt((float)hd);
    const long sj = live ? SOURCE(bw, j) : -1;
    float k[MAX_HD], v[MAX_HD], dk[MAX_HD], dv[MAX_HD];
    for (int d = 0; d < hd; ++d) { dk[d] = 0.0f; dv[d] = 0.0f; }
    if (live) {
        __global const float* kj = slot_qkv(qkv, pad, sj, C) + C + h * hd;
        for (int d = 0; d < hd; ++d) { k[d] = kj[d]; v[d] = kj[C + d]; }
        const long row0 = r - j;   // lse / rowdot row of (bw, h, 0)
        for (int i = lane; i < N; i += L) {
            const long si = SOURCE(bw, i);
            if (si < 0) continue;   // padded queries carry no gradient
            __global const float* qi = qkv + si * 3 * C + h * hd;
            __global const float* dOi = dy + si * C + h * hd;
            float s = 0.0f, dp = 0.0f;
            for (int d = 0; d < hd; ++d) { s += qi[d] * scale * k[d]; dp += dOi[d] * v[d]; }
            s += score_bias(table, rel_index, region, i, j, bw % nW, h, N, heads, index_stride, has_mask);
            const float p = exp(s - lse[row0 + i]);
            const float ds = p * (dp - rowdot[row0 + i]);
            for (int d = 0; d < hd; ++d) { dk[d] += ds * qi[d] * scale; dv[d] += p * dOi[d]; }
        }
    }
    // dk, then dv, summed over the lanes through the same local buffer.
    for (int pass = 0; pass < 2; ++pass) {
        for (int d = 0; d < hd; ++d) acc[t * MAX_HD + d] = pass == 0 ? dk[d] : dv[d];
        barrier(CLK_LOCAL_MEM_FENCE);
        lanes_sum(acc, t, lane, L, hd);
        if (lane == 0 && live) {
            for (int d = 0; d < hd; ++d) {
                const float g = acc[t * MAX_HD + d];
                if (sj >= 0) dqkv[sj * 3 * C + (1 + pass) * C + h * hd + d] = g;
                else if (want_pad) pad_grad[r * 2 * hd + pass * hd + d] = g;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

// The k and v parts of dpad are sums of pad_grad over the padded key slots, two-stage: `slots` lists the padded
// slots (bw·N + j, WindowGeometry.paddedSlots), P slices of it. First stage: one work-item per (slice p, e) for the
// 2C elements e of the k and v parts, partials (P, 2C).
__kernel void window_attention_pad_grad(__global const float* pad_grad, __global const float* slots, const int n_slots,
                                        __global float* partials, const int P, ATTN_ARGS) {
    ATTN_GEOMETRY;
    const int N = W0 * W1 * W2, hd = C / heads;
    const int i = get_global_id(0);
    if (i >= P * 2 * C) return;
    const int p = i / (2 * C), e = i % (2 * C);
    const int part = e / C, h = (e % C) / hd, d = (e % C) % hd;   // part 0 = k, 1 = v
    const int chunk = (n_slots + P - 1) / P, end = min(n_slots, (p + 1) * chunk);
    float s = 0.0f;
    for (int k = p * chunk; k < end; ++k) {
        const int slot = (int)slots[k], bw = slot / N, j = slot % N;
        s += pad_grad[(((long)bw * heads + h) * N + j) * 2 * hd + part * hd + d];
    }
    partials[i] = s;
}

// dpad (3C): the q part 0 (a padded query has no gradient); the k and v parts the sums of the P partials
// (+ beta times what is there: the qkv bias's gradient slot).
__kernel void window_attention_pad_grad_finish(__global const float* partials, __global float* dpad, const int P,
                                               const int C, const float beta) {
    const int e = get_global_id(0);
    if (e >= 3 * C) return;
    float s = 0.0f;
    if (e >= C) for (int p = 0; p < P; ++p) s += partials[p * 2 * C + e - C];
    dpad[e] = beta == 0.0f ? s : s + beta * dpad[e];
}

// dbias (heads, N·N): Σ over windows of dS_ij. One work-item per (h, i, j); windows in a fixed order.
__kernel void window_attention_backward_bias(ATTN_INPUTS, ATTN_SAVED,
                                             __global float* dbias, ATTN_ARGS) {
    ATTN_GEOMETRY;
    const int N = W0 * W1 * W2, nW = (Dp / W0) * (Hp / W1) * (Wp / W2), hd = C / heads;
    const long e = get_global_id(0);
    if (e >= (long)heads * N * N) return;
    const int j = (int)(e % N), i = (int)((e / N) % N), h = (int)(e / ((long)N * N));
    const float scale = rsqrt((float)hd);
    const float b0 = table[(int)rel_index[i * index_stride + j] * heads + h];
    float acc = 0.0f;
    for (int bw = 0; bw < B * nW; ++bw) {
        const long si = SOURCE(bw, i);
        if (si < 0) continue;
        __global const float* qi = qkv + si * 3 * C + h * hd;
        __global const float* dOi = dy + si * C + h * hd;
        __global const float* kj = slot_qkv(qkv, pad, SOURCE(bw, j), C) + C + h * hd;
        __global const float* vj = kj + C;
        float s = 0.0f, dp = 0.0f;
        for (int d = 0; d < hd; ++d) { s += qi[d] * scale * kj[d]; dp += dOi[d] * vj[d]; }
        const int w = bw % nW;
        float b = b0;
        if (has_mask && region[w * N + i] != region[w * N + j]) b += -100.0f;
        s += b;
        const long row = ((long)bw * heads + h) * N + i;
        acc += exp(s - lse[row]) * (dp - rowdot[row]);
    }
    dbias[e] = acc;
}
