"""MONAI peer for `swinliver bench train`: the same Swin UNETR train step (DiceCE + AdamW, FP32).

Run from a scratch virtual environment that has torch and monai (they are no dependency of
SwinLiver):  python bench/monai_train_step.py --feature-size 12 --roi 64 --threads 2 --steps 3
"""
import argparse
import statistics
import time

import torch
from monai.losses import DiceCELoss
from monai.networks.nets import SwinUNETR

p = argparse.ArgumentParser()
p.add_argument("--feature-size", type=int, default=48)
p.add_argument("--roi", type=int, default=96)
p.add_argument("--batch", type=int, default=1)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--device", default="cpu")
p.add_argument("--json", action="store_true", help="print one JSON object (ms_per_step, peak_device_bytes)")
a = p.parse_args()

torch.set_num_threads(a.threads)
dev = torch.device(a.device)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
model = SwinUNETR(in_channels=1, out_channels=3, feature_size=a.feature_size).to(dev)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-5)
loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
x = torch.rand(a.batch, 1, a.roi, a.roi, a.roi, device=dev)
y = (torch.arange(x.numel(), device=dev) // 97 % 3).float().reshape(x.shape)


def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


step()
times = []
for _ in range(a.steps):
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    times.append((time.perf_counter() - t0) * 1000)
ms = statistics.median(times)
if a.json:
    import json
    peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else None
    print(json.dumps({"implementation": f"MONAI {__import__('monai').__version__} (torch {torch.__version__})", "device": a.device, "feature_size": a.feature_size,
                      "roi": a.roi, "batch": a.batch, "steps": a.steps, "ms_per_step": ms, "peak_device_bytes": peak}))
    raise SystemExit(0)
print(f"| MONAI {torch.__version__} {a.device} ({a.threads} threads) | {a.feature_size} | {a.roi} | {a.batch} | {ms:.0f} | {a.batch / ms * 1000:.3f} |")
