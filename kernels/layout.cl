// Data movement: permute (rank <= 6) and strided block copies (concat / split).
// CPU reference: Sources/Kernels/CPU/Layout+CPU.swift.

// y (output dims o0..o5, row-major) = x permuted; s_k = x's stride of the axis that becomes output axis k.
__kernel void permute(__global const float* x, __global float* y, const int n,
                      const int o0, const int o1, const int o2, const int o3, const int o4, const int o5,
                      const int s0, const int s1, const int s2, const int s3, const int s4, const int s5) {
    const int i = get_global_id(0);
    if (i >= n) return;
    int r = i;
    const int i5 = r % o5; r /= o5;
    const int i4 = r % o4; r /= o4;
    const int i3 = r % o3; r /= o3;
    const int i2 = r % o2; r /= o2;
    const int i1 = r % o1; r /= o1;
    const int i0 = r;
    y[i] = x[i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + i5 * s5];
}

// dst[dst_off + r*dst_stride + j] = src[src_off + r*src_stride + j] for r < rows, j < len.
__kernel void copy_block(__global const float* src, const int src_off, const int src_stride,
                         __global float* dst, const int dst_off, const int dst_stride,
                         const int rows, const int len) {
    const int i = get_global_id(0);
    if (i >= rows * len) return;
    const int r = i / len, j = i % len;
    dst[dst_off + r * dst_stride + j] = src[src_off + r * src_stride + j];
}
