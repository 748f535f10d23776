// Sum reductions over a tensor viewed as (A, B, C). Deterministic: fixed tree order, no atomics.
// CPU reference: Sources/Kernels/CPU/Reduce+CPU.swift.
//
// A long sum is two-stage (Sources/Kernels/OpenCL/ReductionSplit.swift): partial sums over enough work-groups
// to fill a GPU, each over a slice of ~1k values, then a finishing pass over the partials. The single-stage
// kernels below are both the finishing passes and the whole reduction when the sum is short.

#ifndef WG
#define WG 128
#endif

// Tree sum of one value per work-item of the group; every work-item gets the total.
inline float group_total(__local float* part, const int t, const float s) {
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

// y[b, g] = the sum over slice g of the A·C values of b, G slices per b, one work-group of WG items each:
// with G = 1 that is y[b] = sum over a, c of x[a, b, c]; with G > 1 the same kernel over y viewed as (1, B, G)
// and G = 1 finishes. beta = 1 adds the sums into y (a parameter's gradient slot), beta = 0 overwrites.
__kernel void reduce_keep_middle(__global const float* x, __global float* y, const int A, const int B, const int C,
                                 const int G, const float beta) {
    __local float part[WG];
    const int b = get_group_id(0) / G, g = get_group_id(0) % G;
    const int t = get_local_id(0);
    const int M = A * C, chunk = (M + G - 1) / G;
    const int end = min(M, (g + 1) * chunk);
    float s = 0.0f;
    for (int j = g * chunk + t; j < end; j += WG) {
        const int a = j / C, c = j % C;
        s += x[(a * B + b) * C + c];
    }
    const float total = group_total(part, t, s);
    if (t == 0) y[b * G + g] = beta == 0.0f ? total : total + beta * y[b * G + g];
}

// y[a, c] = sum over b of x[a, b, c] (+ beta·y). One work-item per (a, c), sequential over b (short B, or the
// finishing pass over P partials).
__kernel void reduce_middle(__global const float* x, __global float* y, const int A, const int B, const int C,
                            const float beta) {
    const int i = get_global_id(0);
    if (i >= A * C) return;
    const int a = i / C, c = i % C;
    float s = 0.0f;
    for (int b = 0; b < B; ++b) s += x[(a * B + b) * C + c];
    y[i] = beta == 0.0f ? s : s + beta * y[i];
}

// First stage of reduce_middle: partials[p, a, c] = the sum over b in slice p (P slices of B). One work-item per
// (p, a, c), reads coalesced along c. reduce_middle over partials viewed as (1, P, A·C) finishes.
__kernel void reduce_middle_partial(__global const float* x, __global float* partials, const int A, const int B,
                                    const int C, const int P) {
    const int i = get_global_id(0);
    const int AC = A * C;
    if (i >= P * AC) return;
    const int p = i / AC, ac = i % AC;
    const int a = ac / C, c = ac % C;
    const int chunk = (B + P - 1) / P;
    const int end = min(B, (p + 1) * chunk);
    float s = 0.0f;
    for (int b = p * chunk; b < end; ++b) s += x[(a * B + b) * C + c];
    partials[i] = s;
}
