// The finishing pass of a split-K GEMM (Sources/Kernels/OpenCL/Gemm+OpenCL.swift): CLBlast writes one partial
// product per slice of the k axis, partials (S, M, N); this sums them and folds in beta·C. The CPU reference is
// the plain GEMM (Sources/Kernels/CPU/Gemm+CPU.swift): split-K changes the order of the sum, not its value.

#define SPLITK_WG 64

// C[c_off + r·ldc + j] = Σ_s partials[s, r, j] + beta·C (C not read when beta = 0, as BLAS defines).
// L lanes per element (a power of two dividing the work-group of SPLITK_WG), so a small C still spans enough
// work-items: the group holds SPLITK_WG / L elements, element-major (neighbouring work-items read neighbouring
// elements of one slice: coalesced); lane l sums slices l, l + L, ..., and the L sums are added in local memory.
// L = 1 (a large C) sums the slices in order in one work-item.
__kernel void gemm_splitk_sum(__global const float* partials, __global float* c, const int S, const int M, const int N,
                              const int c_off, const int ldc, const float beta, const int L) {
    __local float part[SPLITK_WG];
    const int t = get_local_id(0), E = SPLITK_WG / L;
    const int e = t % E, lane = t / E;
    const int i = get_group_id(0) * E + e;
    float s = 0.0f;
    if (i < M * N) for (int k = lane; k < S; k += L) s += partials[(long)k * M * N + i];
    part[t] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = L / 2; w > 0; w >>= 1) {
        if (lane < w) part[t] += part[t + w * E];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && i < M * N) {
        const int at = c_off + (i / N) * ldc + i % N;
        c[at] = beta == 0.0f ? part[t] : part[t] + beta * c[at];
    }
}
