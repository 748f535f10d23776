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

// mean[b], biased var[b], rstd[b] = 1/sqrt(var + eps). One work-group per b; two passes.
__kernel void norm_stats(__global const float* x, __global float* mean, __global float* var, __global float* rstd,
                         const int A, const int B, const int C, const float eps) {
    __local float part[WG];
    const int b = get_group_id(0), t = get_local_id(0);
    const int M = A * C;
    float s = 0.0f;
    for (int j = t; j < M; j += WG) s += x[((j / C) * B + b) * C + j % C];
    const float mu = group_sum(part, t, s) / (float)M;
    float q = 0.0f;
    for (int j = t; j < M; j += WG) { const float d = x[((j / C) * B + b) * C + j % C] - mu; q += d * d; }
    const float v = group_sum(part, t, q) / (float)M;
    if (t == 0) { mean[b] = mu; var[b] = v; rstd[b] = 1.0f / sqrt(v + eps); }
}

// y = (x - mean[b]) * rstd[b] * gamma[k] + beta[k]; has_affine = 0 ignores gamma/beta.
__kernel void norm_apply(__global const float* x, __global const float* mean, __global const float* rstd,
                         __global const float* gamma, __global const float* beta, __global float* y,
                         const int A, const int B, const int C, const int mode, const int groups) {
    const int i = get_global_id(0);
    if (i >= A * B * C) return;
    const int c = i % C, b = (i / C) % B;
    float v = (x[i] - mean[b]) * rstd[b];
    if (mode != AFFINE_NONE) { const int k = affine_index(mode, b, c, groups); v = v * gamma[k] + beta[k]; }
    y[i] = v;
}

// Per b: s1[b] = sum(dy * g), s2[b] = sum(dy * g * xhat), g = gamma[k] (1 when mode is none).
__kernel void norm_backward_sums(__global const float* x, __global const float* mean, __global const float* rstd,
                                 __global const float* gamma, __global const float* dy,
                                 __global float* s1, __global float* s2,
                                 const int A, const int B, const int C, const int mode, const int groups) {
    __local float part[WG];
    const int b = get_group_id(0), t = get_local_id(0);
    const int M = A * C;
    const float mu = mean[b], r = rstd[b];
    float p = 0.0f, q = 0.0f;
    for (int j = t; j < M; j += WG) {
        const int c = j % C;
        const int i = ((j / C) * B + b) * C + c;
        const float g = mode == AFFINE_NONE ? 1.0f : gamma[affine_index(mode, b, c, groups)];
        const float d = dy[i] * g;
        p += d;
        q += d * (x[i] - mu) * r;
    }
    p = group_sum(part, t, p);
    q = group_sum(part, t, q);
    if (t == 0) { s1[b] = p; s2[b] = q; }
}

// dx = rstd * (dy*g - (s1 + xhat*s2)/M); with constant statistics (BatchNorm eval) dx = rstd * dy*g.
__kernel void norm_backward_input(__global const float* x, __global const float* mean, __global const float* rstd,
                                  __global const float* gamma, __global const float* dy,
                                  __global const float* s1, __global const float* s2, __global float* dx,
                                  const int A, const int B, const int C, const int mode, const int groups,
                                  const int constant_stats) {
    const int i = get_global_id(0);
    if (i >= A * B * C) return;
    const int c = i % C, b = (i / C) % B;
    const float g = mode == AFFINE_NONE ? 1.0f : gamma[affine_index(mode, b, c, groups)];
    const float d = dy[i] * g;
    if (constant_stats) { dx[i] = rstd[b] * d; return; }
    const float xhat = (x[i] - mean[b]) * rstd[b];
    const float invM = 1.0f / (float)(A * C);
    dx[i] = rstd[b] * (d - (s1[b] + xhat * s2[b]) * invM);
}

// LayerNorm parameter gradients (A == 1): dgamma[c] = sum_b dy*xhat, dbeta[c] = sum_b dy. One item per c.
__kernel void norm_column_param_grads(__global const float* x, __global const float* mean, __global const float* rstd,
                                      __global const float* dy, __global float* dgamma, __global float* dbeta,
                                      const int B, const int C) {
    const int c = get_global_id(0);
    if (c >= C) return;
    float g = 0.0f, h = 0.0f;
    for (int b = 0; b < B; ++b) {
        const int i = b * C + c;
        g += dy[i] * (x[i] - mean[b]) * rstd[b];
        h += dy[i];
    }
    dgamma[c] = g;
    dbeta[c] = h;
}
