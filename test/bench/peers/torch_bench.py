"""PyTorch (CPU) side of test/bench/vs-peers.ts: trains one reference model in a plain loop.

    python torch_bench.py --model A|B|C|D|E --data mnist10k.f32 [--threads 2] [--epochs 3] [--warmup 1]

The same models and data as keras_bench.py (read its docstring), in PyTorch's default NCHW layout:
batch 128, Adam 1e-3 (eps 1e-7, as Keras and TensorFlow.js), a fresh random order every epoch,
the last batch smaller. samples/s is the median over the timed epochs (after --warmup epochs).
Prints one "RESULT {json}".
"""
import argparse
import json
import os
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PIXELS, BATCH, LR = 784, 128, 1e-3
SQUARES = {"D": (2000, 2, 4), "E": (1000, 4, 8)}  # pictures, upscale, border


def images_rgb(x, n, up, border):
    """keras_bench.images_rgb, NCHW."""
    g = x[:n].reshape(n, 28, 28).repeat(up, axis=1).repeat(up, axis=2)
    g = np.pad(g, ((0, 0), (border, border), (border, border)))
    return np.ascontiguousarray(np.stack([g, g[:, :, ::-1], 1.0 - g], axis=1), dtype=np.float32)


def conv_ae(size, filters, code):
    """Stride-2 3x3 convolutions (relu, 'same' padding as Keras) down to size / 2^stages, a linear
    code, and the mirror image back up with transposed convolutions (last one sigmoid)."""
    side = size // 2 ** len(filters)
    channels = 3 if size > 28 else 1
    net, cin = [], channels
    for f in filters:
        net += [nn.Conv2d(cin, f, 3, stride=2, padding=1), nn.ReLU()]
        cin = f
    net += [nn.Flatten(), nn.Linear(side * side * cin, code), nn.Linear(code, side * side * cin), nn.ReLU(),
            nn.Unflatten(1, (cin, side, side))]
    for f in filters[-2::-1] + [channels]:
        net += [nn.ConvTranspose2d(cin, f, 3, stride=2, padding=1, output_padding=1)]
        net += [nn.ReLU() if f != channels else nn.Sigmoid()]
        cin = f
    return nn.Sequential(*net)


def build(model):
    if model == "A":
        return nn.Sequential(nn.Linear(PIXELS, 128), nn.ReLU(), nn.Linear(128, PIXELS), nn.Sigmoid())
    if model == "B":
        return conv_ae(28, [32, 64], 16)
    if model == "D":
        return conv_ae(64, [32, 64, 128], 128)
    if model == "E":
        return conv_ae(128, [32, 64, 128, 256], 256)
    raise ValueError(model)


class Vae(nn.Module):
    """Model C: the decoder gives logits; summed BCE with logits + KL, batch mean."""

    def __init__(self):
        super().__init__()
        self.hidden, self.mean, self.log_var = nn.Linear(PIXELS, 512), nn.Linear(512, 2), nn.Linear(512, 2)
        self.dec_hidden, self.dec_out = nn.Linear(2, 512), nn.Linear(512, PIXELS)

    def loss(self, x):
        h = F.relu(self.hidden(x))
        mu, lv = self.mean(h), self.log_var(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        logits = self.dec_out(F.relu(self.dec_hidden(z)))
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = -0.5 * (1 + lv - mu.pow(2) - lv.exp()).sum(1)
        return (rec + kl).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=list("ABCDE"))
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    if a.epochs < 1 or a.warmup < 0:
        ap.error("--epochs must be at least 1 and --warmup at least 0")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

    raw = np.fromfile(a.data, dtype="<f4").reshape(-1, PIXELS)
    if a.model in SQUARES:
        raw = images_rgb(raw, *SQUARES[a.model])
    elif a.model == "B":
        raw = raw.reshape(-1, 1, 28, 28)
    x = torch.from_numpy(raw)
    if a.model == "C":
        model = Vae()
        loss_of = model.loss
    else:
        model = build(a.model)

        def loss_of(xb):
            return F.mse_loss(model(xb), xb)

    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    seconds, losses = [], []
    n = len(x)
    for _ in range(a.warmup + a.epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        total = 0.0
        for i in range(0, n, BATCH):
            xb = x[order[i:i + BATCH]]
            loss = loss_of(xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        seconds.append(time.perf_counter() - start)
        losses.append(total / n)
    median = statistics.median(seconds[a.warmup:])
    print("RESULT " + json.dumps({
        "framework": "pytorch", "variant": f"loop threads={a.threads}", "model": a.model, "samples_per_epoch": n,
        "epoch_s": [round(s, 4) for s in seconds], "warmup_epochs": a.warmup,
        "samples_per_s": round(n / median, 1), "final_loss": losses[-1],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "versions": {"torch": torch.__version__},
    }), flush=True)


if __name__ == "__main__":
    main()
