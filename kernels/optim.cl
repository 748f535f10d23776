// Optimiser updates on flat parameter buffers. One work-item per element.
// CPU reference: Sources/Kernels/CPU/Optim+CPU.swift.

// torch.optim.AdamW (foreach=False), step t already counted:
//   p *= 1 - lr·wd;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p -= (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps)
// bc1 = 1 − β1^t and bc2_sqrt = sqrt(1 − β2^t) come from the host. Elements [offset, offset + n): the whole
// parameter arena in one launch, or a run of it (Sources/Train/Optim/ParameterArena.swift).
// With gated = 1 nothing changes unless gate[0] != 0 (finite_gate below: the loss of this step was finite).
__kernel void adamw_step(__global float* p, __global const float* g, __global float* m, __global float* v,
                         const int offset, const int n, const float lr, const float beta1, const float beta2,
                         const float eps, const float weight_decay, const float bc1, const float bc2_sqrt,
                         __global const float* gate, const int gated) {
    if (get_global_id(0) >= n || (gated && gate[0] == 0.0f)) return;
    const int i = offset + get_global_id(0);
    const float gi = g[i];
    float pi = p[i] * (1.0f - lr * weight_decay);
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    pi -= (lr / bc1) * mi / (sqrt(vi) / bc2_sqrt + eps);
    p[i] = pi;
}

// gate[0] = 1 while every value seen so far was finite, else 0 (sticky): values are a step's loss parts. Lets
// the host read the loss a step late while AdamW (gated) still never applies a non-finite step. One work-item.
__kernel void finite_gate(__global const float* values, __global float* gate, const int n) {
    if (get_global_id(0) != 0) return;
    int ok = gate[0] != 0.0f;
    for (int i = 0; i < n; ++i) ok = ok && isfinite(values[i]);
    gate[0] = ok ? 1.0f : 0.0f;
}
