// Boxes of a (C, D, H, W) volume: extract / pad, weighted accumulation, normalisation. The pieces of
// MONAI's sliding_window_inference. CPU reference: Sources/Kernels/CPU/Box+CPU.swift.

// dst (C, dD, dH, dW) at dst_off = src (C, sD, sH, sW) at src_off shifted by (oD, oH, oW); 0 outside src.
__kernel void box_copy(__global const float* src, const int src_off, __global float* dst, const int dst_off,
                       const int C, const int sD, const int sH, const int sW, const int dD, const int dH, const int dW,
                       const int oD, const int oH, const int oW) {
    const int i = get_global_id(0);
    if (i >= C * dD * dH * dW) return;
    const int x = i % dW, y = (i / dW) % dH, z = (i / (dW * dH)) % dD, c = i / (dW * dH * dD);
    const int sz = z + oD, sy = y + oH, sx = x + oW;
    float v = 0.0f;
    if (sz >= 0 && sz < sD && sy >= 0 && sy < sH && sx >= 0 && sx < sW)
        v = src[src_off + ((c * sD + sz) * sH + sy) * sW + sx];
    dst[dst_off + i] = v;
}

// dst (C, D, H, W) at (oD, oH, oW) += src (C, rD, rH, rW) at src_off · weight (rD, rH, rW);
// count (D, H, W) at the same place += weight (when accumulate_count).
__kernel void box_accumulate(__global const float* src, const int src_off, __global const float* weight,
                             __global float* dst, __global float* count, const int C, const int rD, const int rH,
                             const int rW, const int D, const int H, const int W, const int oD, const int oH,
                             const int oW, const int accumulate_count) {
    const int i = get_global_id(0);
    if (i >= C * rD * rH * rW) return;
    const int x = i % rW, y = (i / rW) % rH, z = (i / (rW * rH)) % rD, c = i / (rW * rH * rD);
    const int r = (z * rH + y) * rW + x;
    const int o = ((oD + z) * H + oH + y) * W + oW + x;
    const float w = weight[r];
    dst[(long)c * D * H * W + o] += src[src_off + i] * w;
    if (accumulate_count && c == 0) count[o] += w;
}

// x (C, S) /= count (S)
__kernel void box_normalize(__global float* x, __global const float* count, const int C, const int S) {
    const int i = get_global_id(0);
    if (i >= C * S) return;
    x[i] /= count[i % S];
}
