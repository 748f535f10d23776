// Sum reductions over a tensor viewed as (A, B, C). Deterministic: fixed tree order, no atomics.
// CPU reference: Sources/Kernels/CPU/Reduce+CPU.swift.

#ifndef WG
#define WG 128
#endif

// y[b] = sum over a, c of x[a, b, c]. One work-group of WG items per b.
__kernel void reduce_keep_middle(__global const float* x, __global float* y, const int A, const int B, const int C) {
    __local float part[WG];
    const int b = get_group_id(0);
    const int t = get_local_id(0);
    const int M = A * C;
    float s = 0.0f;
    for (int j = t; j < M; j += WG) {
        const int a = j / C, c = j % C;
        s += x[(a * B + b) * C + c];
    }
    part[t] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = WG / 2; w > 0; w >>= 1) {
        if (t < w) part[t] += part[t + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) y[b] = part[0];
}

// y[a, c] = sum over b of x[a, b, c]. One work-item per (a, c), sequential over b.
__kernel void reduce_middle(__global const float* x, __global float* y, const int A, const int B, const int C) {
    const int i = get_global_id(0);
    if (i >= A * C) return;
    const int a = i / C, c = i % C;
    float s = 0.0f;
    for (int b = 0; b < B; ++b) s += x[(a * B + b) * C + c];
    y[i] = s;
}
