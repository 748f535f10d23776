"""torchvision peer for `swinliver bench classify`: Inception-v3 (aux logits off, the paper's MLP head) training steps
on random images: forward, cross-entropy with label smoothing 0.1, backward, AdamW (lr 1e-4, weight decay 1e-5).

Run where torch and torchvision are installed (they are no dependency of SwinLiver):
  python bench/torchvision_inception_step.py --size 299 --batch 16 --threads 2 --steps 3 [--device cuda] [--json]
"""
import argparse
import json
import time

import torch
from torch import nn
from torchvision.models import inception_v3

p = argparse.ArgumentParser()
p.add_argument("--size", type=int, default=299)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--device", default="cpu")
p.add_argument("--json", action="store_true")
a = p.parse_args()

torch.set_num_threads(a.threads)
dev = torch.device(a.device)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
model = inception_v3(weights=None, aux_logits=False, init_weights=True)
model.fc = nn.Sequential(nn.Linear(2048, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 256), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(256, 3))
model = model.to(dev).train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-5)
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
x = torch.rand(a.batch, 3, a.size, a.size, device=dev)
y = (torch.arange(a.batch, device=dev) % 3)


def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


step()
if dev.type == "cuda":
    torch.cuda.synchronize()
t0 = time.perf_counter()
for _ in range(a.steps):
    step()
if dev.type == "cuda":
    torch.cuda.synchronize()
ms = (time.perf_counter() - t0) * 1000 / a.steps
peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else None
row = {"implementation": f"torchvision {torch.__version__}", "device": a.device, "size": a.size, "batch": a.batch,
       "steps": a.steps, "ms_per_step": ms, "images_per_second": a.batch / ms * 1000, "peak_device_bytes": peak}
print(json.dumps(row) if a.json else f"| torchvision {torch.__version__} {a.device} | {a.size}² | {a.batch} | {ms:.0f} | {a.batch / ms * 1000:.1f} |")
