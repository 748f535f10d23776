// MONAI DiceCELoss(to_onehot_y=True, softmax=True): softmax over channels, Dice per (batch, class)
// (or per class over the batch, batch=True) with smooth_nr / smooth_dr, mean cross-entropy over voxels; forward and backward.
// CPU reference: Sources/Kernels/CPU/Loss+CPU.swift. Logits (B, C, S); labels (B, S) class ids as floats.

#ifndef WG
#define WG 128
#endif

// probs (B, C, S) = softmax over C; ce (B, S) = −log p[label]. One work-item per voxel.
__kernel void dice_ce_softmax(__global const float* logits, __global const float* labels, __global float* probs,
                              __global float* ce, const int B, const int C, const int S) {
    const int i = get_global_id(0);
    if (i >= B * S) return;
    const int b = i / S, s = i % S;
    const long base = (long)b * C * S + s;
    float m = -INFINITY;
    for (int c = 0; c < C; ++c) m = fmax(m, logits[base + (long)c * S]);
    float sum = 0.0f;
    for (int c = 0; c < C; ++c) { const float e = exp(logits[base + (long)c * S] - m); probs[base + (long)c * S] = e; sum += e; }
    const float inv = 1.0f / sum;
    for (int c = 0; c < C; ++c) probs[base + (long)c * S] *= inv;
    const int t = (int)labels[i];
    ce[i] = log(sum) + m - logits[base + (long)t * S];
}

// Per (b, c) and slice g of S (G slices, one work-group each): sums[3·(bc·G + g) + {0, 1, 2}] = (Σ p·y, Σ p, Σ y) over
// the slice. With G = 1 these are the (b, c) totals; with G > 1, reduce_middle over (B·C, G, 3) finishes.
__kernel void dice_sums(__global const float* probs, __global const float* labels, __global float* sums,
                        const int C, const int S, const int G) {
    __local float a[WG], p[WG], g[WG];
    const int bc = get_group_id(0) / G, slice = get_group_id(0) % G, t = get_local_id(0);
    const int b = bc / C, c = bc % C;
    const int chunk = (S + G - 1) / G, end = min(S, (slice + 1) * chunk);
    float sa = 0.0f, sp = 0.0f, sg = 0.0f;
    for (int s = slice * chunk + t; s < end; s += WG) {
        const float pr = probs[(long)bc * S + s];
        const float y = (int)labels[(long)b * S + s] == c ? 1.0f : 0.0f;
        sa += pr * y; sp += pr; sg += y;
    }
    a[t] = sa; p[t] = sp; g[t] = sg;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = WG / 2; w > 0; w >>= 1) {
        if (t < w) { a[t] += a[t + w]; p[t] += p[t + w]; g[t] += g[t + w]; }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        const int j = 3 * (bc * G + slice);
        sums[j] = a[0]; sums[j + 1] = p[0]; sums[j + 2] = g[0];
    }
}

// Numerator 2I + nr and denominator P + G + dr of class c's Dice: sample b's own sums, or (batch_dice,
// MONAI DiceLoss(batch=True)) the sums over the whole batch.
inline float2 dice_terms(__global const float* sums, const int b, const int c, const int B, const int C,
                         const int batch_dice, const float nr, const float dr) {
    float i = 0.0f, p = 0.0f, g = 0.0f;
    const int first = batch_dice ? 0 : b, last = batch_dice ? B : b + 1;
    for (int k = first; k < last; ++k) {
        const int j = 3 * (k * C + c);
        i += sums[j]; p += sums[j + 1]; g += sums[j + 2];
    }
    return (float2)(2.0f * i + nr, p + g + dr);
}

// loss[0] = λd·mean(1 − (2I + nr)/(G + P + dr)) + λc·ce_sum/(B·S), the mean over (b, c), or over c with
// batch_dice; loss[1] = dice part; loss[2] = CE part.
__kernel void dice_ce_finalize(__global const float* sums, __global const float* ce_sum, __global float* loss,
                               const int B, const int C, const int S, const int batch_dice, const float nr,
                               const float dr, const float lambda_dice, const float lambda_ce) {
    if (get_global_id(0) != 0) return;
    const int terms = batch_dice ? C : B * C;
    float d = 0.0f;
    for (int k = 0; k < terms; ++k) {
        const float2 t = dice_terms(sums, k / C, k % C, B, C, batch_dice, nr, dr);
        d += 1.0f - t.x / t.y;
    }
    d /= (float)terms;
    const float ce = ce_sum[0] / (float)(B * S);
    loss[0] = lambda_dice * d + lambda_ce * ce;
    loss[1] = d;
    loss[2] = ce;
}

// dlogits (B, C, S) = g · [softmax-Jacobian(dDice/dp) + λc·(p − y)/(B·S)], g = upstream[0].
__kernel void dice_ce_backward(__global const float* probs, __global const float* labels, __global const float* sums,
                               __global const float* upstream, __global float* dlogits, const int B, const int C,
                               const int S, const int batch_dice, const float nr, const float dr,
                               const float lambda_dice, const float lambda_ce) {
    const int i = get_global_id(0);
    if (i >= B * S) return;
    const int b = i / S, s = i % S;
    const long base = (long)b * C * S + s;
    const int t = (int)labels[i];
    const float wd = lambda_dice / (float)(batch_dice ? C : B * C), wc = lambda_ce / (float)(B * S), g = upstream[0];
    float dot = 0.0f;
    for (int c = 0; c < C; ++c) {
        const float2 nd = dice_terms(sums, b, c, B, C, batch_dice, nr, dr);
        const float y = c == t ? 1.0f : 0.0f;
        const float dp = -wd * (2.0f * y * nd.y - nd.x) / (nd.y * nd.y);
        dlogits[base + (long)c * S] = dp;
        dot += dp * probs[base + (long)c * S];
    }
    for (int c = 0; c < C; ++c) {
        const float p = probs[base + (long)c * S];
        const float y = c == t ? 1.0f : 0.0f;
        dlogits[base + (long)c * S] = g * (p * (dlogits[base + (long)c * S] - dot) + wc * (p - y));
    }
}

// ---- Row losses for small (N, C) logits: torch CrossEntropyLoss (soft targets cover label smoothing)
// and the row normalisation of NT-Xent (MONAI ContrastiveLoss). CPU reference: Loss+CPU.swift.

// probs (N, C) = softmax(logits); row_loss (N) = −Σ_c targets·log softmax. One work-item per row.
__kernel void cross_entropy_rows(__global const float* logits, __global const float* targets,
                                 __global float* probs, __global float* row_loss, const int N, const int C) {
    const int n = get_global_id(0);
    if (n >= N) return;
    const long base = (long)n * C;
    float m = -INFINITY;
    for (int c = 0; c < C; ++c) m = fmax(m, logits[base + c]);
    float sum = 0.0f;
    for (int c = 0; c < C; ++c) { const float e = exp(logits[base + c] - m); probs[base + c] = e; sum += e; }
    const float lse = log(sum) + m, inv = 1.0f / sum;
    float l = 0.0f;
    for (int c = 0; c < C; ++c) {
        probs[base + c] *= inv;
        const float t = targets[base + c];
        if (t != 0.0f) l -= t * (logits[base + c] - lse);
    }
    row_loss[n] = l;
}

// dlogits (N, C) = upstream[0] · scale · (probs − targets)  (scale = 1/N for the mean).
__kernel void cross_entropy_rows_backward(__global const float* probs, __global const float* targets,
                                          __global const float* upstream, __global float* dlogits,
                                          const int total, const float scale) {
    const int i = get_global_id(0);
    if (i < total) dlogits[i] = upstream[0] * scale * (probs[i] - targets[i]);
}

// y (N, D) = x / max(‖x‖, eps) per row (F.normalize); norms (N) = ‖x‖.
__kernel void row_l2_normalize(__global const float* x, __global float* y, __global float* norms,
                               const int N, const int D, const float eps) {
    const int n = get_global_id(0);
    if (n >= N) return;
    const long base = (long)n * D;
    float s = 0.0f;
    for (int d = 0; d < D; ++d) s += x[base + d] * x[base + d];
    const float norm = sqrt(s), inv = 1.0f / fmax(norm, eps);
    for (int d = 0; d < D; ++d) y[base + d] = x[base + d] * inv;
    norms[n] = norm;
}

// dx = (dy − y·(y·dy)) / ‖x‖, or dy / eps where the norm was clamped.
__kernel void row_l2_normalize_backward(__global const float* y, __global const float* norms,
                                        __global const float* dy, __global float* dx,
                                        const int N, const int D, const float eps) {
    const int n = get_global_id(0);
    if (n >= N) return;
    const long base = (long)n * D;
    const float norm = norms[n];
    if (norm <= eps) {
        for (int d = 0; d < D; ++d) dx[base + d] = dy[base + d] / eps;
        return;
    }
    float dot = 0.0f;
    for (int d = 0; d < D; ++d) dot += y[base + d] * dy[base + d];
    for (int d = 0; d < D; ++d) dx[base + d] = (dy[base + d] - y[base + d] * dot) / norm;
}
