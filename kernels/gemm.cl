// The finishing pass of a split-K GEMM (Sources/Kernels/OpenCL/Gemm+OpenCL.swift): CLBlast writes one partial
// product per slice of the k axis, partials (S, M, N); this sums them and folds in beta·C. The CPU reference is
// the plain GEMM (Sources/Kernels/CPU/Gemm+CPU.swift): split-K changes the order of the sum, not its value.

// C[c_off + r·ldc + j] = Σ_s partials[s, r, j] + beta·C (C not read when beta = 0, as BLAS defines).
// One work-item per (r, j); the S reads of a work-item are M·N apart, coalesced across work-items.
__kernel void gemm_splitk_sum(__global const float* partials, __global float* c, const int S, const int M, const int N,
                              const int c_off, const int ldc, const float beta) {
    const int i = get_global_id(0);
    if (i >= M * N) return;
    const int r = i / N, j = i % N;
    float s = 0.0f;
    for (int k = 0; k < S; ++k) s += partials[(long)k * M * N + i];
    const int at = c_off + r * ldc + j;
    c[at] = beta == 0.0f ? s : s + beta * c[at];
}
