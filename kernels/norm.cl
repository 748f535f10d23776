// Normalisation family: LayerNorm, InstanceNorm3d and BatchNorm2d share these kernels.
// The input is viewed as (A, B, C); statistics are taken per b over all (a, c):
//   LayerNorm      (1, rows, features)   affine per column (c)
//   InstanceNorm3d (1, N*C, D*H*W)       affine per row, channel = b % C
//   BatchNorm2d    (N, C, H*W)           affine per row, channel = b % C
// CPU reference: Sources/Kernels/CPU/Norm+CPU.swift.

#ifndef WG
#define WG 128
#endif

#define AFFINE_NONE 0
#define AFFINE_ROW 1
#define AFFINE_COLUMN 2

inline int affine_index(const int mode, const int b, const int c, const int groups) {
    return mode == AFFINE_ROW ? b % groups : c;
}

// The activation fused after a non-affine normalisation (NormActivation): act = 0 none, 1 LeakyReLU(slope), as
// elementwise.cl's unary kernels compute it; its derivative from the normalised value's sign.
inline float activate(const float v, const int act, const float slope) { return act && !(v > 0.0f) ? v * slope : v; }
inline float activation_grad(const float v, const int act, const float slope) { return act && !(v > 0.0f) ? slope : 1.0f; }

inline float group_sum(__local float* part, const int t, float s) {
    part[t] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = WG / 2; w > 0; w >>= 1) {
        if (t < w) part[t] += part[t + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// mean[b], biased var[b], rstd[b] = 1/sqrt(var + eps), then y = act((x − mean)·rstd·gamma + beta) for group b:
// statistics and apply in one launch. One work-group per b; three passes over its values.
__kernel void norm_forward(__global const float* x, __global float* mean, __global float* var, __global float* rstd,
                           __global const float* gamma, __global const float* beta, __global float* y,
                           const int A, const int B, const int C, const float eps, const int mode, const int groups,
                           const int act, const float slope) {
    __local float part[WG];
    const int b = get_group_id(0), t = get_local_id(0);
    const int M = A * C;
    float s = 0.0f;
    for (int j = t; j < M; j += WG) s += x[((j / C) * B + b) * C + j % C];
    const float mu = group_sum(part, t, s) / (float)M;
    float q = 0.0f;
    for (int j = t; j < M; j += WG) { const float d = x[((j / C) * B + b) * C + j % C] - mu; q += d * d; }
    const float v = group_sum(part, t, q) / (float)M;
    const float r = 1.0f / sqrt(v + eps);
    if (t == 0) { mean[b] = mu; var[b] = v; rstd[b] = r; }
    for (int j = t; j < M; j += WG) {
        const int c = j % C, i = ((j / C) * B + b) * C + c;
        float u = (x[i] - mu) * r;
        if (mode != AFFINE_NONE) { const int k = affine_index(mode, b, c, groups); u = u * gamma[k] + beta[k]; }
        y[i] = activate(u, act, slope);
    }
}

// The long statistics are two-stage (Sources/Kernels/OpenCL/ReductionSplit.swift): G work-groups per b each
// take a slice of b's M = A·C values; a finishing pass with one work-item per b combines the G partials.

// Slice g of G over M values: [g·chunk, min(M, (g+1)·chunk)).
inline int slice_start(const int M, const int G, const int g) { return min(M, g * ((M + G - 1) / G)); }

// partials[b, g] = (mean, M2) of slice g: its mean and Σ (x − its mean)², two passes over the slice.
__kernel void norm_stats_partial(__global const float* x, __global float2* partials,
                                 const int A, const int B, const int C, const int G) {
    __local float part[WG];
    const int b = get_group_id(0) / G, g = get_group_id(0) % G, t = get_local_id(0);
    const int M = A * C, start = slice_start(M, G, g), end = slice_start(M, G, g + 1);
    const int n = end - start;
    float s = 0.0f;
    for (int j = start + t; j < end; j += WG) s += x[((j / C) * B + b) * C + j % C];
    const float mu = n > 0 ? group_sum(part, t, s) / (float)n : 0.0f;
    float q = 0.0f;
    for (int j = start + t; j < end; j += WG) { const float d = x[((j / C) * B + b) * C + j % C] - mu; q += d * d; }
    const float m2 = group_sum(part, t, q);
    if (t == 0) partials[b * G + g] = (float2)(mu, m2);
}

// Combines the slices (Chan et al.): mean = Σ n_g·mean_g / M, var = Σ (M2_g + n_g·(mean_g − mean)²) / M.
__kernel void norm_stats_finish(__global const float2* partials, __global float* mean, __global float* var,
                                __global float* rstd, const int M, const int B, const int G, const float eps) {
    const int b = get_global_id(0);
    if (b >= B) return;
    float s = 0.0f;
    for (int g = 0; g < G; ++g) s += (float)(slice_start(M, G, g + 1) - slice_start(M, G, g)) * partials[b * G + g].x;
    const float mu = s / (float)M;
    float q = 0.0f;
    for (int g = 0; g < G; ++g) {
        const float2 p = partials[b * G + g];
        const float d = p.x - mu;
        q += p.y + (float)(slice_start(M, G, g + 1) - slice_start(M, G, g)) * d * d;
    }
    const float v = q / (float)M;
    mean[b] = mu; var[b] = v; rstd[b] = 1.0f / sqrt(v + eps);
}

// y = act((x - mean[b]) * rstd[b] * gamma[k] + beta[k]); mode none ignores gamma/beta.
__kernel void norm_apply(__global const float* x, __global const float* mean, __global const float* rstd,
                         __global const float* gamma, __global const float* beta, __global float* y,
                         const int A, const int B, const int C, const int mode, const int groups, const int act,
                         const float slope) {
    const int i = get_global_id(0);
    if (i >= A * B * C) return;
    const int c = i % C, b = (i / C) % B;
    float v = (x[i] - mean[b]) * rstd[b];
    if (mode != AFFINE_NONE) { const int k = affine_index(mode, b, c, groups); v = v * gamma[k] + beta[k]; }
    y[i] = activate(v, act, slope);
}

// Per b and slice g of its values (G slices, one work-group each): s1[b, g] = Σ dy·g, s2[b, g] = Σ dy·g·x̂, with
// g = gamma[k] (1 when mode is none) and dy times act'(x̂). With G = 1 these are the totals s1[b], s2[b]; with
// G > 1, norm_backward_sums_finish adds the slices.
__kernel void norm_backward_sums(__global const float* x, __global const float* mean, __global const float* rstd,
                                 __global const float* gamma, __global const float* dy,
                                 __global float* s1, __global float* s2,
                                 const int A, const int B, const int C, const int mode, const int groups, const int G,
                                 const int act, const float slope) {
    __local float part[WG];
    const int b = get_group_id(0) / G, g = get_group_id(0) % G, t = get_local_id(0);
    const int M = A * C, end = slice_start(M, G, g + 1);
    const float mu = mean[b], r = rstd[b];
    float p = 0.0f, q = 0.0f;
    for (int j = slice_start(M, G, g) + t; j < end; j += WG) {
        const int c = j % C;
        const int i = ((j / C) * B + b) * C + c;
        const float xhat = (x[i] - mu) * r;
        const float d = dy[i] * activation_grad(xhat, act, slope)
            * (mode == AFFINE_NONE ? 1.0f : gamma[affine_index(mode, b, c, groups)]);
        p += d;
        q += d * xhat;
    }
    p = group_sum(part, t, p);
    q = group_sum(part, t, q);
    if (t == 0) { s1[b * G + g] = p; s2[b * G + g] = q; }
}

// s1[b] = Σ_g p1[b, g], s2[b] = Σ_g p2[b, g]. One work-item per b.
__kernel void norm_backward_sums_finish(__global const float* p1, __global const float* p2, __global float* s1,
                                        __global float* s2, const int B, const int G) {
    const int b = get_global_id(0);
    if (b >= B) return;
    float u = 0.0f, v = 0.0f;
    for (int g = 0; g < G; ++g) { u += p1[b * G + g]; v += p2[b * G + g]; }
    s1[b] = u; s2[b] = v;
}

// norm_backward_sums (G = 1) and norm_backward_input for group b in one launch: one work-group per b sums s1, s2 over
// its values, then writes its dx.
__kernel void norm_backward(__global const float* x, __global const float* mean, __global const float* rstd,
                            __global const float* gamma, __global const float* dy, __global float* s1,
                            __global float* s2, __global float* dx, const int A, const int B, const int C,
                            const int mode, const int groups, const int act, const float slope, const float beta) {
    __local float part[WG];
    const int b = get_group_id(0), t = get_local_id(0);
    const int M = A * C;
    const float mu = mean[b], r = rstd[b];
    float p = 0.0f, q = 0.0f;
    for (int j = t; j < M; j += WG) {
        const int c = j % C, i = ((j / C) * B + b) * C + c;
        const float xhat = (x[i] - mu) * r;
        const float d = dy[i] * activation_grad(xhat, act, slope)
            * (mode == AFFINE_NONE ? 1.0f : gamma[affine_index(mode, b, c, groups)]);
        p += d;
        q += d * xhat;
    }
    p = group_sum(part, t, p);
    q = group_sum(part, t, q);
    if (t == 0) { s1[b] = p; s2[b] = q; }
    const float invM = 1.0f / (float)M;
    for (int j = t; j < M; j += WG) {
        const int c = j % C, i = ((j / C) * B + b) * C + c;
        const float xhat = (x[i] - mu) * r;
        const float d = dy[i] * activation_grad(xhat, act, slope)
            * (mode == AFFINE_NONE ? 1.0f : gamma[affine_index(mode, b, c, groups)]);
        const float v = r * (d - (p + xhat * q) * invM);
        dx[i] = beta == 0.0f ? v : v + beta * dx[i];
    }
}

// dx = rstd * (dy*g - (s1 + xhat*s2)/M); with constant statistics (BatchNorm eval) dx = rstd * dy*g; dy times
// act'(x̂).
__kernel void norm_backward_input(__global const float* x, __global const float* mean, __global const float* rstd,
                                  __global const float* gamma, __global const float* dy,
                                  __global const float* s1, __global const float* s2, __global float* dx,
                                  const int A, const int B, const int C, const int mode, const int groups,
                                  const int constant_stats, const int act, const float slope, const float beta) {
    const int i = get_global_id(0);
    if (i >= A * B * C) return;
    const int c = i % C, b = (i / C) % B;
    const float g = mode == AFFINE_NONE ? 1.0f : gamma[affine_index(mode, b, c, groups)];
    const float xhat = (x[i] - mean[b]) * rstd[b];
    const float d = dy[i] * activation_grad(xhat, act, slope) * g;
    const float v = constant_stats ? rstd[b] * d : rstd[b] * (d - (s1[b] + xhat * s2[b]) * (1.0f / (float)(A * C)));
    dx[i] = beta == 0.0f ? v : v + beta * dx[i];
}

// LayerNorm parameter gradients (A == 1) over P slices of the B rows: dgamma[p, c] = Σ dy·x̂ and dbeta[p, c] = Σ dy
// over slice p (+ beta times what is there). One work-item per (p, c). With P = 1 these are the gradients; with
// P > 1, norm_column_param_finish adds the slices.
__kernel void norm_column_param_grads(__global const float* x, __global const float* mean, __global const float* rstd,
                                      __global const float* dy, __global float* dgamma, __global float* dbeta,
                                      const int B, const int C, const int P, const float beta) {
    const int i = get_global_id(0);
    if (i >= P * C) return;
    const int p = i / C, c = i % C;
    const int end = slice_start(B, P, p + 1);
    float g = 0.0f, h = 0.0f;
    for (int b = slice_start(B, P, p); b < end; ++b) {
        const int k = b * C + c;
        g += dy[k] * (x[k] - mean[b]) * rstd[b];
        h += dy[k];
    }
    dgamma[i] = beta == 0.0f ? g : g + beta * dgamma[i];
    dbeta[i] = beta == 0.0f ? h : h + beta * dbeta[i];
}

// dgamma[c] = Σ_p gpart[p, c], dbeta[c] = Σ_p bpart[p, c] (+ beta times what is there): the finishing pass of
// both LayerNorm parameter gradients at once. One work-item per c.
__kernel void norm_column_param_finish(__global const float* gpart, __global const float* bpart,
                                       __global float* dgamma, __global float* dbeta, const int P, const int C,
                                       const float beta) {
    const int c = get_global_id(0);
    if (c >= C) return;
    float g = 0.0f, h = 0.0f;
    for (int p = 0; p < P; ++p) { g += gpart[p * C + c]; h += bpart[p * C + c]; }
    dgamma[c] = beta == 0.0f ? g : g + beta * dgamma[c];
    dbeta[c] = beta == 0.0f ? h : h + beta * dbeta[c];
}
