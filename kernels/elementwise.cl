// Elementwise kernels on flat float32 buffers: one work-item per element.
// CPU references: Sources/Kernels/CPU/Elementwise+CPU.swift. Gradients: unary_backward here.

// Unary op codes (Sources/Kernels/Ops/Elementwise.swift, UnaryOp.code).
#define UNARY_RELU 0
#define UNARY_LEAKY_RELU 1
#define UNARY_GELU 2
#define UNARY_SIGMOID 3
#define UNARY_SCALE 4
#define UNARY_RSQRT 5
#define UNARY_ABS 6

// Binary op codes (BinaryOp.rawValue).
#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3

// y[i] = value
__kernel void fill(__global float* y, const float value, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = value;
}

// f(v); p is the op's parameter (LeakyReLU slope, scale factor, rsqrt epsilon).
inline float unary_value(const float v, const int op, const float p) {
    switch (op) {
    case UNARY_RELU: return v < 0.0f ? 0.0f : v;   // NaN passes through, as in PyTorch
    case UNARY_LEAKY_RELU: return v > 0.0f ? v : v * p;
    case UNARY_GELU: return 0.5f * v * (1.0f + erf(v * 0.70710678118654752f));
    case UNARY_SIGMOID: return 1.0f / (1.0f + exp(-v));
    case UNARY_RSQRT: return 1.0f / sqrt(v + p);
    case UNARY_ABS: return fabs(v);
    default: return v * p;
    }
}

// y[i] = f(x[i])
__kernel void unary_forward(__global const float* x, __global float* y, const int n, const int op, const float p) {
    const int i = get_global_id(0);
    if (i < n) y[i] = unary_value(x[i], op, p);
}

// pre (n / C, C) += bias[c], then y = f(pre): a Linear's bias and its activation in one pass (the MLP's GELU);
// pre keeps the pre-activation for the backward.
__kernel void bias_unary_forward(__global float* pre, __global const float* bias, __global float* y, const int n,
                                 const int C, const int op, const float p) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = pre[i] + bias[i % C];
    pre[i] = v;
    y[i] = unary_value(v, op, p);
}

// dx[i] = f'(x[i]) * dy[i]  (dx is overwritten)
__kernel void unary_backward(__global const float* x, __global const float* dy, __global float* dx,
                             const int n, const int op, const float p) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = x[i];
    float d;
    switch (op) {
    case UNARY_RELU: d = v > 0.0f ? 1.0f : 0.0f; break;
    case UNARY_LEAKY_RELU: d = v > 0.0f ? 1.0f : p; break;
    case UNARY_GELU: {
        const float cdf = 0.5f * (1.0f + erf(v * 0.70710678118654752f));
        const float pdf = exp(-0.5f * v * v) * 0.39894228040143268f;
        d = cdf + v * pdf;
        break;
    }
    case UNARY_SIGMOID: { const float s = 1.0f / (1.0f + exp(-v)); d = s * (1.0f - s); break; }
    case UNARY_RSQRT: { const float r = 1.0f / sqrt(v + p); d = -0.5f * r * r * r; break; }
    case UNARY_ABS: d = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); break;  // torch.sign: 0 at 0
    default: d = p; break;
    }
    dx[i] = d * dy[i];
}

// y[i] = a[i] (op) b[i]
__kernel void binary_forward(__global const float* a, __global const float* b, __global float* y,
                             const int n, const int op) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float u = a[i], v = b[i];
    y[i] = op == BINARY_ADD ? u + v : (op == BINARY_SUB ? u - v : (op == BINARY_MUL ? u * v : u / v));
}

// y[i] = act(a[i] + b[i]), act = 0 none, 1 LeakyReLU(slope) as unary_forward computes it.
__kernel void add_activated(__global const float* a, __global const float* b, __global float* y, const int n,
                            const int act, const float slope) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = a[i] + b[i];
    y[i] = act && !(v > 0.0f) ? v * slope : v;
}

// y[i] += alpha * x[i]  (gradient accumulation)
__kernel void axpy(const float alpha, __global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] += alpha * x[i];
}

// y viewed as (A, B, C) = base + src broadcast (base may be y itself). mode 0: src[b]; mode 1: src[a,c].
__kernel void broadcast_add(__global float* y, __global const float* base, __global const float* src,
                            const int A, const int B, const int C, const int mode) {
    const int i = get_global_id(0);
    if (i >= A * B * C) return;
    const int c = i % C;
    const int b = (i / C) % B;
    const int a = i / (B * C);
    y[i] = base[i] + (mode == 0 ? src[b] : src[a * C + c]);
}

// Counter-based hash (same constants as Sources/Kernels/Ops/Dropout.swift).
uint mix32(uint x) {
    x ^= x >> 16; x *= 0x7feb352dU;
    x ^= x >> 15; x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

// y[i] = 1/(1-p) where the element is kept, 0 where dropped; keep iff u(seed, i) >= p.
__kernel void dropout_mask(__global float* y, const int n, const uint seed_lo, const uint seed_hi, const float p) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const uint h = mix32((uint)i ^ mix32(seed_lo ^ mix32(seed_hi)));
    const float u = (float)(h >> 8) * (1.0f / 16777216.0f);
    y[i] = u >= p ? 1.0f / (1.0f - p) : 0.0f;
}
