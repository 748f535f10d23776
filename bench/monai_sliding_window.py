"""MONAI peer for `swinliver bench sliding-window`: sliding_window_inference of a random-weight Swin UNETR over
one random volume (eval, no_grad, FP32, Gaussian blending).

Run where torch and monai are installed (they are no dependency of SwinLiver):
  python bench/monai_sliding_window.py --shape 256,256,160 --feature-size 48 --roi 96 --device cuda --json
"""
import argparse
import json
import time

import torch
from monai.inferers import sliding_window_inference
from monai.networks.nets import SwinUNETR

p = argparse.ArgumentParser()
p.add_argument("--shape", default="256,256,160")
p.add_argument("--feature-size", type=int, default=48)
p.add_argument("--roi", type=int, default=96)
p.add_argument("--overlap", type=float, default=0.5)
p.add_argument("--sw-batch", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--device", default="cpu")
p.add_argument("--json", action="store_true")
a = p.parse_args()

torch.set_num_threads(a.threads)
dev = torch.device(a.device)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
size = [int(s) for s in a.shape.split(",")]
model = SwinUNETR(in_channels=1, out_channels=3, feature_size=a.feature_size).to(dev).eval()
roi = (a.roi,) * 3


def infer(dims):
    x = torch.rand(1, 1, *dims, device=dev)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.no_grad():
        sliding_window_inference(x, roi, a.sw_batch, model, overlap=a.overlap, mode="gaussian")
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1000


infer(list(roi))  # warm-up
ms = infer(size)
peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else None
row = {"implementation": f"MONAI {__import__('monai').__version__} (torch {torch.__version__})", "device": a.device, "feature_size": a.feature_size, "roi": a.roi,
       "shape": size, "overlap": a.overlap, "sw_batch": a.sw_batch, "ms": ms, "peak_device_bytes": peak}
print(json.dumps(row) if a.json else f"| MONAI {torch.__version__} {a.device} | {a.feature_size} | {a.roi} | {a.shape} | {ms:.0f} |")
