// 2D pooling over planes (N*C, H, W) -> (N*C, Ho, Wo). Backward passes gather (no atomics).
// CPU reference: Sources/Kernels/CPU/Pool+CPU.swift.
#define POOL_ARGS const int P, const int H, const int W, const int Ho, const int Wo, \
    const int KH, const int KW, const int SH, const int SW, const int PH, const int PW

// Max pooling; padding counts as -inf; the first maximum wins (PyTorch). arg = ih*W + iw (exact in float).
__kernel void max_pool2d_forward(__global const float* x, __global float* y, __global float* arg, POOL_ARGS) {
    const int i = get_global_id(0);
    if (i >= P * Ho * Wo) return;
    const int ow = i % Wo, oh = (i / Wo) % Ho, p = i / (Wo * Ho);
    float m = -INFINITY;
    int best = -1;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = ow * SW - PW + kw;
            if (iw < 0 || iw >= W) continue;
            const float v = x[(p * H + ih) * W + iw];
            if (best < 0 || v > m || isnan(v)) { m = v; best = ih * W + iw; }
        }
    }
    y[i] = m;
    arg[i] = (float)best;
}

// Output window range that covers input position t along one axis.
inline int2 covering(const int t, const int k, const int s, const int pad, const int n_out) {
    const int lo_num = t + pad - k + 1;
    const int lo = lo_num <= 0 ? 0 : (lo_num + s - 1) / s;
    const int hi = min((t + pad) / s, n_out - 1);
    return (int2)(lo, hi);
}

__kernel void max_pool2d_backward(__global const float* dy, __global const float* arg, __global float* dx, POOL_ARGS) {
    const int i = get_global_id(0);
    if (i >= P * H * W) return;
    const int iw = i % W, ih = (i / W) % H, p = i / (W * H);
    const int2 rh = covering(ih, KH, SH, PH, Ho), rw = covering(iw, KW, SW, PW, Wo);
    const float me = (float)(ih * W + iw);
    float s = 0.0f;
    for (int oh = rh.x; oh <= rh.y; ++oh)
        for (int ow = rw.x; ow <= rw.y; ++ow) {
            const int o = (p * Ho + oh) * Wo + ow;
            if (arg[o] == me) s += dy[o];
        }
    dx[i] = s;
}

// Window divisor as PyTorch's avg_pool2d: with include_pad the window clipped to the padded input.
inline float avg_divisor(const int oh, const int ow, const int H, const int W, const int KH, const int KW,
                         const int SH, const int SW, const int PH, const int PW, const int include_pad) {
    int h0 = oh * SH - PH, w0 = ow * SW - PW;
    int h1 = min(h0 + KH, H + PH), w1 = min(w0 + KW, W + PW);
    const int padded = (h1 - h0) * (w1 - w0);
    h0 = max(h0, 0); w0 = max(w0, 0); h1 = min(h1, H); w1 = min(w1, W);
    return (float)(include_pad ? padded : (h1 - h0) * (w1 - w0));
}

__kernel void avg_pool2d_forward(__global const float* x, __global float* y, POOL_ARGS, const int include_pad) {
    const int i = get_global_id(0);
    if (i >= P * Ho * Wo) return;
    const int ow = i % Wo, oh = (i / Wo) % Ho, p = i / (Wo * Ho);
    float s = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = ow * SW - PW + kw;
            if (iw >= 0 && iw < W) s += x[(p * H + ih) * W + iw];
        }
    }
    y[i] = s / avg_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, include_pad);
}

__kernel void avg_pool2d_backward(__global const float* dy, __global float* dx, POOL_ARGS, const int include_pad) {
    const int i = get_global_id(0);
    if (i >= P * H * W) return;
    const int iw = i % W, ih = (i / W) % H, p = i / (W * H);
    const int2 rh = covering(ih, KH, SH, PH, Ho), rw = covering(iw, KW, SW, PW, Wo);
    float s = 0.0f;
    for (int oh = rh.x; oh <= rh.y; ++oh)
        for (int ow = rw.x; ow <= rw.y; ++ow)
            s += dy[(p * Ho + oh) * Wo + ow] / avg_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, include_pad);
    dx[i] = s;
}

// Adaptive average pooling, PyTorch's bins: [floor(o*In/Out), ceil((o+1)*In/Out)).
inline int bin_start(const int o, const int n_in, const int n_out) { return (o * n_in) / n_out; }
inline int bin_end(const int o, const int n_in, const int n_out) { return ((o + 1) * n_in + n_out - 1) / n_out; }

__kernel void adaptive_avg_pool2d_forward(__global const float* x, __global float* y,
                                          const int P, const int H, const int W, const int Ho, const int Wo) {
    const int i = get_global_id(0);
    if (i >= P * Ho * Wo) return;
    const int ow = i % Wo, oh = (i / Wo) % Ho, p = i / (Wo * Ho);
    const int h0 = bin_start(oh, H, Ho), h1 = bin_end(oh, H, Ho), w0 = bin_start(ow, W, Wo), w1 = bin_end(ow, W, Wo);
    float s = 0.0f;
    for (int ih = h0; ih < h1; ++ih)
        for (int iw = w0; iw < w1; ++iw) s += x[(p * H + ih) * W + iw];
    y[i] = s / (float)((h1 - h0) * (w1 - w0));
}

__kernel void adaptive_avg_pool2d_backward(__global const float* dy, __global float* dx,
                                           const int P, const int H, const int W, const int Ho, const int Wo) {
    const int i = get_global_id(0);
    if (i >= P * H * W) return;
    const int iw = i % W, ih = (i / W) % H, p = i / (W * H);
    float s = 0.0f;
    for (int oh = max(0, (ih * Ho) / H - 1); oh < Ho && bin_start(oh, H, Ho) <= ih; ++oh) {
        const int h0 = bin_start(oh, H, Ho), h1 = bin_end(oh, H, Ho);
        if (ih < h0 || ih >= h1) continue;
        for (int ow = max(0, (iw * Wo) / W - 1); ow < Wo && bin_start(ow, W, Wo) <= iw; ++ow) {
            const int w0 = bin_start(ow, W, Wo), w1 = bin_end(ow, W, Wo);
            if (iw < w0 || iw >= w1) continue;
            s += dy[(p * Ho + oh) * Wo + ow] / (float)((h1 - h0) * (w1 - w0));
        }
    }
    dx[i] = s;
}
