// Softmax over the last axis of a (rows, cols) tensor. One work-item per row.
// CPU reference: Sources/Kernels/CPU/Softmax+CPU.swift.

__kernel void softmax_forward(__global const float* x, __global float* y, const int rows, const int cols) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const float* xr = x + (long)r * cols;
    __global float* yr = y + (long)r * cols;
    float m = -INFINITY;
    for (int j = 0; j < cols; ++j) m = fmax(m, xr[j]);
    float s = 0.0f;
    for (int j = 0; j < cols; ++j) { const float e = exp(xr[j] - m); yr[j] = e; s += e; }
    const float inv = 1.0f / s;
    for (int j = 0; j < cols; ++j) yr[j] *= inv;
}

// dx = y * (dy - sum(dy * y))
__kernel void softmax_backward(__global const float* y, __global const float* dy, __global float* dx,
                               const int rows, const int cols) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const long o = (long)r * cols;
    float dot = 0.0f;
    for (int j = 0; j < cols; ++j) dot += dy[o + j] * y[o + j];
    for (int j = 0; j < cols; ++j) dx[o + j] = y[o + j] * (dy[o + j] - dot);
}
