"""torchvision peer for a SwinLiver classifier overfit check: Inception-v3 (weights=None) with the paper's MLP head trained
from scratch on a `swinliver slices` folder resized to 75 px (AdamW, one-cycle cosine, flips and 90° turns, batch 32),
printing each epoch's training loss and accuracy on its own slices. Not a dependency of SwinLiver.

  python bench/torchvision_inception_overfit.py SLICES EPOCHS LR [LABEL_SMOOTHING]
"""
import csv, sys, time, numpy as np, torch
from PIL import Image
from torch import nn
from torchvision.models import inception_v3
torch.set_num_threads(2); torch.manual_seed(0)
d = sys.argv[1]; epochs = int(sys.argv[2]); lr = float(sys.argv[3]); smooth = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
rows = list(csv.reader(open(f'{d}/manifest.csv')))[1:]
cls = {'HCC': 0, 'ICC': 1, 'CRLM': 2}
X = []; Y = []
for p, s, c, f in rows:
    a = np.array(Image.open(f'{d}/{f}')).astype(np.float32) / 65535
    X.append(torch.nn.functional.interpolate(torch.from_numpy(a)[None, None], size=(75, 75), mode='bilinear', align_corners=False)[0, 0])
    Y.append(cls[c])
X = torch.stack(X); Y = torch.tensor(Y)
model = inception_v3(weights=None, aux_logits=False, init_weights=True)
model.fc = nn.Sequential(nn.Linear(2048, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 3))
opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-5)
lossf = nn.CrossEntropyLoss(label_smoothing=smooth)
steps = epochs * ((len(X) + 31) // 32); sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05, anneal_strategy='cos')
step = 0
for e in range(epochs):
    model.train()
    perm = torch.randperm(len(X)); tot = 0; n = 0
    for i in range(0, len(X), 32):
        idx = perm[i:i + 32]
        if len(idx) < 2: continue
        x = X[idx]
        if torch.rand(1) < 0.5: x = x.flip(-1)
        if torch.rand(1) < 0.5: x = x.flip(-2)
        x = torch.rot90(x, int(torch.randint(4, (1,))), (-2, -1))
        x = x[:, None].repeat(1, 3, 1, 1)
        opt.zero_grad(); l = lossf(model(x), Y[idx]); l.backward(); opt.step(); sched.step(); step += 1
        tot += l.item() * len(idx); n += len(idx)
    model.eval()
    with torch.no_grad():
        acc = (model(X[:, None].repeat(1, 3, 1, 1)).argmax(1) == Y).float().mean().item()
    print(f'epoch {e+1} train loss {tot/n:.3f} eval acc on train {acc:.3f}', flush=True)
