// train.py of a cluster job, written into every job folder as is. It builds the model
// from job.json's layer plan (plan.ts), so it is the same network the studio builds for the config,
// and trains it with PyTorch DistributedDataParallel under torchrun. Kept as one string here so
// the bundled CLI and trainer carry it (no files to locate at run time). No backticks and no
// dollar-brace in it (it is a String.raw template). The one per-kind table it needs, each kind's
// code (the term it adds to the objective), is written in from the contract's MODEL_KIND_TRAITS.
import { MODEL_KIND_TRAITS } from '../contract/model-kinds';

const KIND_CODES = JSON.stringify(
  Object.fromEntries(Object.entries(MODEL_KIND_TRAITS).map(([kind, t]) => [kind, t.code])),
);

export const TRAIN_PY = String.raw`#!/usr/bin/env python3
# Autoencoder Studio: a training job for a PyTorch cluster (format autoencoder-studio/torch-job,
# version 1), written by "ae-studio job export". README.md next to this file says how to run it.
#
#   python -m torch.distributed.run --nproc_per_node=N train.py [--epochs N] [--out DIR]
#   python train.py --predict images.npy --predict-out DIR [--weights FILE]   (reference outputs)
#
# The model is built from job.json's layer plan: the same layers, activations, initial weights
# and objective as the studio, in PyTorch's layouts (see README.md, "How it matches the studio").
# One process per worker (torchrun), DistributedDataParallel over gloo (CPU) or NCCL (GPUs), a
# DistributedSampler over the studio's training split, seeded. Rank 0 writes out/metrics.jsonl
# (one line per epoch) and out/checkpoint/ (replaced atomically after every epoch); any launch
# (a relaunch, or torchrun's own restart after a worker died) continues after the last checkpoint.
import argparse
import datetime
import json
import math
import os
import shutil
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data.distributed import DistributedSampler

try:
    from safetensors.torch import load_file, save_file
except ImportError:  # pragma: no cover - said plainly instead of a traceback
    sys.exit("train.py needs the 'safetensors' package: pip install -r requirements.txt")

JOB_FORMAT = "autoencoder-studio/torch-job"
JOB_VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
EPS = 1e-7  # tfjs's epsilon for float32: Adam and RMSprop use it as tfjs does
# Each model kind's code, the studio's table: "plain", "variational" (+ beta * KL) or "sparse" (+ l1 * mean|z|).
KIND_CODES = __KIND_CODES__


def say(msg, rank=None):
    who = "" if rank is None else "[rank %d] " % rank
    print("%s%s" % (who, msg), flush=True)


# ----------------------------------------------------------------------------- job and data

def load_job(path):
    with open(path, "r", encoding="utf-8") as f:
        job = json.load(f)
    if job.get("format") != JOB_FORMAT:
        sys.exit("%s is not an Autoencoder Studio job (format %r)" % (path, job.get("format")))
    if job.get("version") != JOB_VERSION:
        sys.exit("%s is a version %r job; this train.py reads version %d" % (path, job.get("version"), JOB_VERSION))
    return job


def open_safetensors(path):
    """The arrays of a safetensors file as numpy memmaps (nothing is read until used)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    start = 8 + n
    kinds = {"U8": "<u1", "I32": "<i4", "I64": "<i8", "F32": "<f4"}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        shape = tuple(e["shape"])
        if end == begin:
            out[name] = np.zeros(shape, dtype=kinds[e["dtype"]])
        else:
            out[name] = np.memmap(path, dtype=kinds[e["dtype"]], mode="r", offset=start + begin, shape=shape)
    return out


# ----------------------------------------------------------------------------- the model

def act_fn(name):
    if name == "relu":
        return F.relu
    if name == "elu":
        return F.elu
    if name == "tanh":
        return torch.tanh
    if name == "sigmoid":
        return torch.sigmoid
    if name == "leaky-relu":
        return lambda x: F.leaky_relu(x, 0.2)  # the studio's LeakyReLU(alpha=0.2)
    if name == "linear":
        return lambda x: x
    raise ValueError("unknown activation %r" % name)


def same_pad(size, k, s):
    """TensorFlow's 'same' padding of one axis: (before, after); the extra pixel goes after."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's asymmetric 'same' padding (PyTorch's padding= is symmetric)."""

    def __init__(self, cin, cout, k, s, in_size):
        super().__init__(cin, cout, k, stride=s, padding=0)
        top, bottom = same_pad(in_size[0], k, s)
        left, right = same_pad(in_size[1], k, s)
        self.pads = (left, right, top, bottom)

    def forward(self, x):
        return super().forward(F.pad(x, self.pads))


class SameConvTranspose2d(nn.ConvTranspose2d):
    """ConvTranspose2d cropped as TensorFlow's 'same' transposed convolution: output = input * stride."""

    def __init__(self, cin, cout, k, s, in_size):
        super().__init__(cin, cout, k, stride=s, padding=0)
        self.out_size = (in_size[0] * s, in_size[1] * s)
        self.crop = (max(k - s, 0) // 2, max(k - s, 0) // 2)

    def forward(self, x):
        y = super().forward(x)
        t, l = self.crop
        return y[:, :, t:t + self.out_size[0], l:l + self.out_size[1]]


def make_layer(op):
    if op["op"] == "dense":
        return nn.Linear(op["in"], op["out"])
    if op["op"] == "conv":
        return SameConv2d(op["in"], op["out"], op["kernel"], op["stride"], op["inSize"])
    if op["op"] == "convT":
        return SameConvTranspose2d(op["in"], op["out"], op["kernel"], op["stride"], op["inSize"])
    raise ValueError("unknown layer %r" % op["op"])


class Stack(nn.Module):
    """A chain of the plan's layers; weighted ones are registered under their studio names."""

    def __init__(self, ops, heads=()):
        super().__init__()
        self.ops = list(ops)
        self.heads = list(heads)
        self.acts = {}
        for op in self.ops + self.heads:
            if "name" in op:
                self.add_module(op["name"], make_layer(op))
                self.acts[op["name"]] = act_fn(op["act"])

    def run(self, x):
        for op in self.ops:
            if op["op"] == "flatten":
                x = x.flatten(1)
            elif op["op"] == "reshape":
                x = x.reshape(x.shape[0], *op["chw"])
            else:
                x = self.acts[op["name"]](getattr(self, op["name"])(x))
        return x


class Encoder(Stack):
    def __init__(self, plan):
        super().__init__(plan["encoder"], plan["heads"])
        self.conv_input = plan["convInput"]
        self.channels_last = False  # set by --channels-last: conv activations stay NHWC in memory

    def forward(self, x):
        # images come in as the studio has them: N x H x W x C in 0..1
        # clone: for one channel the permuted view already counts as contiguous, and its channels-last
        # strides would carry into the weight gradients (DDP wants them in the default layout)
        if self.conv_input:
            # N x H x W x C permuted to NCHW is already channels-last in memory: --channels-last keeps it so
            x = x.permute(0, 3, 1, 2)
            x = x.contiguous(memory_format=torch.channels_last) if self.channels_last else x.clone(memory_format=torch.contiguous_format)
        x = self.run(x)
        return [self.acts[h["name"]](getattr(self, h["name"])(x)) for h in self.heads]


class Decoder(Stack):
    def __init__(self, plan):
        super().__init__(plan["decoder"])
        self.conv_output = plan["convOutput"]
        self.image = tuple(plan["inputShape"])

    def forward(self, z):
        y = self.run(z)
        return y.permute(0, 2, 3, 1) if self.conv_output else y.reshape(y.shape[0], *self.image)


class Autoencoder(nn.Module):
    def __init__(self, plan):
        super().__init__()
        self.vae = plan["vae"]
        self.encoder = Encoder(plan)
        self.decoder = Decoder(plan)

    def forward(self, x, sample=True):
        """(reconstruction, code or mean, log-variance or None); a VAE samples z = mu + sigma * eps."""
        heads = self.encoder(x)
        if self.vae:
            mu, log_var = heads
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu) if sample else mu
            return self.decoder(z), mu, log_var
        return self.decoder(heads[0]), heads[0], None


def glorot_init(model, seed):
    """The studio's initialisation when no initial weights are given: Glorot uniform kernels, zero biases, zero z_log_var kernel."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias") or ".z_log_var." in name:
                p.zero_()
            else:
                fan_in = p.shape[1] * (p[0][0].numel() if p.dim() > 2 else 1)
                fan_out = p.shape[0] * (p[0][0].numel() if p.dim() > 2 else 1)
                limit = math.sqrt(6.0 / (fan_in + fan_out))
                p.copy_(torch.rand(p.shape, generator=g) * 2 * limit - limit)


# ----------------------------------------------------------------------------- the studio's randomness

M32 = 0xFFFFFFFF
KNOWN_LOSSES = ("mse", "bce", "ssim", "l2+ssim")
KNOWN_KINDS = ("dense", "deep-dense", "conv", "vae", "conv-vae", "sparse")


def refuse_unknown(cfg):
    """A configuration this train.py cannot train the way the studio does is refused in plain words."""
    if cfg.get("loss") not in KNOWN_LOSSES:
        sys.exit("this job's configuration uses the loss %r, which this train.py does not train (it knows %s). "
                 "Export the job from a studio whose cluster jobs train that loss, or export it with loss 'mse', the nearest one that runs here." % (cfg.get("loss"), ", ".join(KNOWN_LOSSES)))
    if cfg.get("kind") not in KNOWN_KINDS:
        sys.exit("this job's model kind %r is not one this train.py builds (%s)." % (cfg.get("kind"), ", ".join(KNOWN_KINDS)))


class Mulberry32:
    """The studio's seeded generator (engine/rng.ts), bit for bit: uniform floats in [0, 1)."""

    def __init__(self, seed):
        self.a = int(seed) & M32

    def __call__(self):
        self.a = (self.a + 0x6D2B79F5) & M32
        t = self.a
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296.0


def fmix32(x):
    """murmur3's 32-bit finaliser (engine/crops.ts fmix32), bit for bit."""
    x &= M32
    x = ((x ^ (x >> 16)) * 0x85EBCA6B) & M32
    x = ((x ^ (x >> 13)) * 0xC2B2AE35) & M32
    return (x ^ (x >> 16)) & M32


def crop_origin(seed, epoch, row, h, w, size):
    """Where the studio's random crop of dataset row 'row' starts in 'epoch' (engine/crops.ts
    cropOrigin), bit for bit: (top, left) in an h x w picture. Epoch 0 is the fixed crop that
    validation, the test split and the measures use."""
    key = fmix32((fmix32((int(seed) ^ ((int(epoch) * 0x9E3779B9) & M32)) & M32) + int(row)) & M32)
    return key % (h - size + 1), fmix32(key ^ 0x68E31DA4) % (w - size + 1)


def crop_batch(x, rows, seed, epoch, size):
    """The studio's crops of a batch: x is N x H x W x C (rows in the batch's order, 'rows' their
    dataset rows); each picture's size x size crop of this epoch."""
    h, w = x.shape[1], x.shape[2]
    out = x.new_empty((x.shape[0], size, size, x.shape[3]))
    for k, r in enumerate(rows):
        y0, x0 = crop_origin(seed, epoch, r, h, w, size)
        out[k] = x[k, y0:y0 + size, x0:x0 + size]
    return out


def balanced_order(train_labels, seed):
    """The studio's class-balanced order of an epoch (engine/data.ts balancedOrder): len(train_labels)
    draws of positions in the training split, each a label chosen uniformly, then one of its images."""
    groups = {}
    for i, l in enumerate(np.asarray(train_labels).tolist()):
        groups.setdefault(l, []).append(i)
    groups = list(groups.values())  # in order of first appearance, as the studio's Map
    rand = Mulberry32(seed)
    out = np.empty(len(train_labels), dtype=np.int64)
    ng = len(groups)
    for k in range(len(out)):
        g = groups[int(rand() * ng)]
        out[k] = g[int(rand() * len(g))]
    return out


class GlobalBatchSampler:
    """One epoch's order for every worker, cut into the studio's global batches: worker r takes rows
    r*b .. (r+1)*b of each global batch of b*world, so all workers together draw exactly the studio's
    order (class-balanced: the balance holds across all workers, not per worker). A last, short global
    batch is split evenly (wrapping to the start of the order when it does not divide), so every worker
    takes the same number of steps."""

    def __init__(self, order_fn, n, world, rank, per_rank):
        self.order_fn, self.n, self.world, self.rank, self.per_rank = order_fn, n, world, rank, per_rank
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def global_order(self):
        return np.asarray(self.order_fn(self.epoch), dtype=np.int64)

    def __iter__(self):
        order = self.global_order()
        g = self.per_rank * self.world
        full = (self.n // g) * g
        mine = [order[b + self.rank * self.per_rank:b + (self.rank + 1) * self.per_rank] for b in range(0, full, g)]
        rest = self.n - full
        if rest:
            k = -(-rest // self.world)
            tail = np.concatenate([order[full:], order[:k * self.world - rest]]) if k * self.world > rest else order[full:]
            mine.append(tail[self.rank * k:(self.rank + 1) * k])
        return iter(np.concatenate(mine).tolist() if mine else [])


def js_round(v):
    """JavaScript's Math.round: halves go up."""
    return np.floor(v + 0.5)


def augment_active(a):
    return bool(a) and (bool(a.get("flip")) or a.get("shift", 0) > 0 or a.get("rotate", 0) > 0 or a.get("brightness", 0) > 0)


def augment_indices(n, h, w, a, seed, rows=None):
    """The studio's augmentation of a batch of n images (engine/augment.ts augmentIndices), its own
    random numbers included: for each of the given rows (default all), the flattened source pixel of
    every output pixel (index into that row's image; a position outside the picture takes its nearest
    edge pixel, as the studio does) and the brightness gain."""
    rand = Mulberry32(seed)
    draws = []
    for _ in range(n):
        flip = bool(a.get("flip")) and rand() < 0.5
        dy = (rand() * 2 - 1) * a.get("shift", 0) * h
        dx = (rand() * 2 - 1) * a.get("shift", 0) * w
        angle = (((rand() * 2 - 1) * a.get("rotate", 0)) / 180) * math.pi
        gain = 1 + (rand() * 2 - 1) * a.get("brightness", 0)
        draws.append((flip, dy, dx, angle, gain))
    rows = range(n) if rows is None else rows
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    out = np.empty((len(rows), h * w), dtype=np.int64)
    gains = np.empty(len(rows), dtype=np.float32)
    for j, k in enumerate(rows):
        flip, dy, dx, angle, gain = draws[k]
        cos, sin = math.cos(angle), math.sin(angle)
        ox = xx - cx - dx
        oy = yy - cy - dy
        sx = cos * ox + sin * oy + cx
        sy = -sin * ox + cos * oy + cy
        if flip:
            sx = w - 1 - sx
        ix = np.clip(js_round(sx).astype(np.int64), 0, w - 1)
        iy = np.clip(js_round(sy).astype(np.int64), 0, h - 1)
        out[j] = (iy * w + ix).reshape(-1)
        gains[j] = gain
    return out, gains


def augment_batch(x, a, seed, n_global, first_row):
    """x: this worker's rows first_row.. of a global batch of n_global images (N x H x W x C in 0..1),
    augmented as the studio augments that global batch with this seed."""
    n, h, w, c = x.shape
    idx, gains = augment_indices(n_global, h, w, a, seed, range(first_row, first_row + n))
    flat = x.reshape(n, h * w, c)
    y = torch.gather(flat, 1, torch.as_tensor(idx, device=x.device).unsqueeze(-1).expand(n, h * w, c)).reshape(n, h, w, c)
    if a.get("brightness", 0) > 0:
        y = (y * torch.as_tensor(gains, device=x.device).reshape(n, 1, 1, 1)).clamp_(0, 1)
    return y


# ----------------------------------------------------------------------------- objective

def corrupt(x, noise):
    """The studio's input noise (fresh per batch, clipped to 0..1); the target stays clean."""
    kind, p = noise.get("type", "none"), float(noise.get("level", 0))
    if kind == "none" or p == 0:
        return x
    if kind == "gaussian":
        return (x + torch.randn_like(x) * p).clamp_(0, 1)
    u = torch.rand_like(x)
    if kind == "masking":
        return x * (u >= p).to(x.dtype)
    # salt and pepper: p/2 of the pixels become 1, p/2 become 0
    return torch.where(u < p / 2, torch.ones_like(x), torch.where(u >= 1 - p / 2, torch.zeros_like(x), x))


def kl_beta(cfg, epoch):
    """The KL weight of an epoch: beta, grown linearly from 0 over klWarmupEpochs epochs when set."""
    warm = int(cfg.get("klWarmupEpochs") or 0)
    if warm <= 0:
        return float(cfg["beta"])
    return float(cfg["beta"]) * min(1.0, (epoch - 1) / warm)


def ssim_mean(a, b):
    """Mean SSIM of two [N, H, W, C] batches, as the studio's (engine/metrics.ts): an 11 x 11 Gaussian
    window of sigma 1.5 (the largest odd size that fits in smaller pictures), K1 = 0.01, K2 = 0.03,
    valid positions only, the mean over every position, channel and picture; in float32 whatever
    the precision (a depthwise conv2d: one group per channel)."""
    with torch.autocast(device_type=a.device.type, enabled=False):
        a = a.float().permute(0, 3, 1, 2)
        b = b.float().permute(0, 3, 1, 2)
        c, h, w = a.shape[1], a.shape[2], a.shape[3]
        k = min(11, h, w)
        k = k if k % 2 == 1 else k - 1
        g = torch.exp(-((torch.arange(k, dtype=torch.float64) - (k - 1) / 2) ** 2) / (2 * 1.5 * 1.5))
        g = g / g.sum()
        win = (g[:, None] * g[None, :]).to(device=a.device, dtype=torch.float32).expand(c, 1, k, k).contiguous()

        def filt(x):
            return F.conv2d(x, win, groups=c)

        mu_a, mu_b = filt(a), filt(b)
        mu_a2, mu_b2, mu_ab = mu_a * mu_a, mu_b * mu_b, mu_a * mu_b
        s_a = filt(a * a) - mu_a2
        s_b = filt(b * b) - mu_b2
        s_ab = filt(a * b) - mu_ab
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        num = (2 * mu_ab + c1) * (2 * s_ab + c2)
        den = (mu_a2 + mu_b2 + c1) * (s_a + s_b + c2)
        return (num / den).mean()


def objective(out, target, cfg, beta, pixels):
    """Per pixel, as the studio: reconstruction (MSE, BCE, 1 - SSIM or (1 - w) MSE + w (1 - SSIM))
    + beta * KL / pixels (VAE) + l1 * mean|z| (sparse)."""
    recon, z, log_var = out
    if cfg["loss"] == "mse":
        loss = F.mse_loss(recon, target)
    elif cfg["loss"] in ("ssim", "l2+ssim"):
        loss = 1 - ssim_mean(recon, target)
        if cfg["loss"] == "l2+ssim":
            w = float(cfg.get("ssimWeight", 0.5))
            loss = (1 - w) * F.mse_loss(recon.float(), target.float()) + w * loss
    else:
        p = recon.clamp(1e-7, 1 - 1e-7)
        loss = -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()
    code = KIND_CODES[cfg["kind"]]
    if code == "variational":
        kl = -0.5 * torch.sum(1 + log_var - z * z - torch.exp(log_var), dim=-1)
        loss = loss + (beta / pixels) * kl.mean()
    elif code == "sparse":
        loss = loss + float(cfg["l1"]) * z.abs().mean()
    elif code != "plain":
        raise ValueError("this train.py does not know the code of a %r model (%r)" % (cfg["kind"], code))
    return loss


# ----------------------------------------------------------------------------- optimizer

class StudioOptimizer:
    """Adam, RMSprop and SGD (+ momentum) with tfjs's arithmetic and its state names.

    Adam:    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
    RMSprop: ms = 0.9 ms + 0.1 g^2;  mom = momentum mom + lr g / sqrt(ms + eps);  p -= mom   (eps inside the root)
    SGD:     acc = momentum acc + g;  p -= lr acc   (plain p -= lr g without momentum)
    with eps = 1e-7 (tfjs's backend epsilon). torch.optim.RMSprop puts eps outside the root, hence this class.
    """

    def __init__(self, named_params, cfg):
        self.params = list(named_params)
        self.kind = cfg["optimizer"]
        self.lr = float(cfg["learningRate"])
        self.momentum = float(cfg["momentum"])
        if self.kind == "adam":
            self.slot_names = ["m", "v"]
        elif self.kind == "rmsprop":
            self.slot_names = ["rms", "momentum"]
        elif self.momentum > 0:
            self.slot_names = ["momentum"]
        else:
            self.slot_names = []
        self.slots = {n: {s: torch.zeros_like(p) for s in self.slot_names} for n, p in self.params}
        self.iterations = 0

    def zero_grad(self):
        for _, p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        t = self.iterations + 1
        for name, p in self.params:
            g = p.grad
            if g is None:
                continue
            s = self.slots[name]
            if self.kind == "adam":
                m, v = s["m"], s["v"]
                m.mul_(0.9).add_(g, alpha=0.1)
                v.mul_(0.999).addcmul_(g, g, value=0.001)
                denom = (v / (1 - 0.999 ** t)).sqrt_().add_(EPS)
                p.addcdiv_(m / (1 - 0.9 ** t), denom, value=-self.lr)
            elif self.kind == "rmsprop":
                ms, mom = s["rms"], s["momentum"]
                ms.mul_(0.9).addcmul_(g, g, value=0.1)
                mom.mul_(self.momentum).addcdiv_(g, (ms + EPS).sqrt_(), value=self.lr)
                p.sub_(mom)
            elif self.slot_names:
                acc = s["momentum"]
                acc.mul_(self.momentum).add_(g)
                p.add_(acc, alpha=-self.lr)
            else:
                p.add_(g, alpha=-self.lr)
        self.iterations = t

    def state_tensors(self):
        return {"%s/%s" % (n, s): t for n, slots in self.slots.items() for s, t in slots.items()}

    def load_state_tensors(self, tensors, iterations):
        want = set(self.state_tensors().keys())
        got = set(tensors.keys())
        if want != got:
            raise ValueError("the optimizer state does not fit this model and optimizer (missing %s, extra %s)" % (sorted(want - got)[:3], sorted(got - want)[:3]))
        with torch.no_grad():
            for n, slots in self.slots.items():
                for s, t in slots.items():
                    t.copy_(tensors["%s/%s" % (n, s)])
        self.iterations = int(iterations)


class LossScale:
    """Dynamic loss scaling for --precision fp16 (as torch.amp.GradScaler, for StudioOptimizer): the loss
    is scaled before backward, the gradients unscaled before the step; a step with an overflow is skipped
    and the scale halved; 2000 good steps in a row double it."""

    def __init__(self, scale=2.0 ** 16):
        self.scale, self.good = scale, 0

    def backward_and_step(self, loss, model, opt):
        (loss * self.scale).backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        ok = torch.tensor([1.0 if all(bool(torch.isfinite(g).all()) for g in grads) else 0.0], device=grads[0].device if grads else "cpu")
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)  # every worker skips the same steps
        finite = bool(ok.item() > 0)
        if not finite:
            self.scale /= 2
            self.good = 0
            return
        for g in grads:
            g.div_(self.scale)
        opt.step()
        self.good += 1
        if self.good >= 2000:
            self.scale *= 2
            self.good = 0


# ----------------------------------------------------------------------------- checkpoints

def fsync_dir_files(d):
    for name in os.listdir(d):
        with open(os.path.join(d, name), "rb") as f:
            os.fsync(f.fileno())


def write_checkpoint(out, model, opt, state):
    """out/checkpoint/ replaced atomically: a temporary folder beside it, then two renames."""
    final = os.path.join(out, "checkpoint")
    old = final + ".old"
    tmp = "%s.tmp-%d" % (final, os.getpid())
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    meta = {"format": JOB_FORMAT, "epoch": str(state["epochsDone"])}
    save_file({k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}, os.path.join(tmp, "model.safetensors"), metadata=meta)
    save_file({k: v.detach().to("cpu").contiguous() for k, v in opt.state_tensors().items()}, os.path.join(tmp, "optimizer.safetensors"), metadata=meta)
    with open(os.path.join(tmp, "state.json"), "w", encoding="utf-8") as f:
        json.dump(state, f)
    fsync_dir_files(tmp)
    if os.path.exists(final):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def readable_checkpoint(out):
    """out/checkpoint, or the previous one when a crash fell between the two renames."""
    for d in (os.path.join(out, "checkpoint"), os.path.join(out, "checkpoint.old")):
        if os.path.exists(os.path.join(d, "state.json")):
            return d
    return None


def write_text_atomic(path, text):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- training

def measure_split(model, cfg, batch_of, idx, labels, beta, pixels, seed):
    """The finished model on a split, as the studio measures it at the end of a run: the objective
    (with the last epoch's beta), mean per-image MSE and PSNR (capped at 100 dB), MSE per label."""
    torch.manual_seed(seed * 7919 + 104729)
    model.eval()
    loss_sum, mses = 0.0, []
    with torch.no_grad():
        for i in range(0, len(idx), 256):
            part = idx[i:i + 256]
            x = batch_of(part)
            inp = corrupt(x, cfg["noise"])
            out = model(inp)
            loss_sum += float(objective(out, x, cfg, beta, pixels)) * len(part)
            rec = model(inp, sample=False)[0] if out[2] is not None else out[0]  # the mean's reconstruction, as the studio's metrics
            mses.extend(((rec.float() - x) ** 2).flatten(1).mean(1).double().cpu().tolist())
    psnr = [100.0 if m <= 0 else min(100.0, 10 * math.log10(1 / m)) for m in mses]
    per = {}
    for m, l in zip(mses, labels[idx].tolist()):
        e = per.setdefault(int(l), [0, 0.0])
        e[0] += 1
        e[1] += m
    return {"count": len(idx), "loss": loss_sum / len(idx), "mse": sum(mses) / len(mses), "psnr": sum(psnr) / len(psnr),
            "perLabel": [{"label": l, "count": c, "mse": s / c} for l, (c, s) in sorted(per.items())]}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train an Autoencoder Studio model with PyTorch DDP (launch with torchrun; see README.md).")
    ap.add_argument("--job", default=os.path.join(HERE, "job.json"), help="the job description (default: job.json next to this file)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="where metrics.jsonl and checkpoint/ go (default: out/ next to this file); on several nodes a shared folder")
    ap.add_argument("--epochs", type=int, default=None, help="epochs this job trains, counted from where it started (default: the studio's setting)")
    ap.add_argument("--batch-size", type=int, default=None, help="GLOBAL batch size, split over the workers (default: the studio's setting)")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto")
    ap.add_argument("--log-every", type=int, default=0, help="print the batch loss every N batches (default: about 10 times an epoch)")
    ap.add_argument("--predict", metavar="IMAGES.npy", help="no training: write reconstruction.npy, code.npy (and log_var.npy) for these N x H x W x C images")
    ap.add_argument("--predict-out", metavar="DIR", help="folder for --predict's outputs")
    ap.add_argument("--weights", metavar="FILE", help="--predict: a model.safetensors (default: out/checkpoint, else init/)")
    ap.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                    help="fp32 (default: the studio's arithmetic); bf16: autocast to bfloat16 (CPU and CUDA); fp16: autocast to float16 with loss scaling (CUDA only). Weights, optimizer state and the loss stay float32")
    ap.add_argument("--channels-last", action="store_true", help="conv kinds: keep activations and conv weights channels-last (NHWC) in memory; often faster on GPUs with tensor cores and on CPU with oneDNN")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model; where it does not work (no compiler, an unsupported platform) training goes on without it, with a message")
    return ap.parse_args(argv)


def pick_device(want, local_rank):
    if want == "cuda" or (want == "auto" and torch.cuda.is_available()):
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def init_process_group(backend, rank, world, restart):
    """The process group of this attempt, on a store no earlier attempt wrote to; returns that store
    (None under a launcher other than torchrun).

    After a worker died, torchrun starts the whole group again. Where its agent shares one store with
    the workers for the whole job (TORCHELASTIC_USE_AGENT_STORE=True: torchrun's default, and static
    ranks), keys a dead attempt left there stay: a new worker could read a dead worker's address. Each
    attempt then gets a key prefix of its own, named by the restart count. That count is per node, and
    on several elastic nodes a node whose workers were healthy when a peer's died restarts them without
    counting it, so the nodes disagree and wait for each other for ever: launch.sh therefore sets
    TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1, and torchrun gives each attempt a fresh port for a store
    of its own that rank 0 hosts, where no prefix is needed (see leave())."""
    timeout = datetime.timedelta(minutes=30)
    if "TORCHELASTIC_RESTART_COUNT" not in os.environ or "MASTER_ADDR" not in os.environ:
        dist.init_process_group(backend=backend, timeout=timeout)  # another launcher: env:// as it set it
        return None
    addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
        if rank == 0 and int(os.environ.get("GROUP_WORLD_SIZE", "1")) > 1 and os.environ.get("TORCH_DISABLE_SHARE_RDZV_TCP_STORE") != "1":
            say("several nodes share one torchrun store across restarts here: with an elastic rendezvous (c10d) a restart can hang; set TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 on every node, as launch.sh does", rank)
        store = dist.PrefixStore("ae-studio/attempt-%d" % restart, dist.TCPStore(addr, port, world, is_master=False, timeout=timeout))
    else:
        store = dist.TCPStore(addr, port, world, is_master=(rank == 0), timeout=timeout)
    dist.init_process_group(backend=backend, store=store, rank=rank, world_size=world, timeout=timeout)
    return store


def leave(store, rank, world, code=0):
    """Ends the process group and the process, rank 0 last. Rank 0 hosts this attempt's store
    (launch.sh), so the other ranks end their group and check out in it before rank 0 ends its own.
    Then the process ends at once (os._exit, after flushing): gloo's threads that DDP still holds
    could otherwise abort the interpreter's shutdown ("terminate called without an active
    exception", SIGABRT), and a worker that fails after its job is done fails its node."""
    if store is None or world == 1:
        dist.destroy_process_group()
    elif rank != 0:
        dist.destroy_process_group()
        store.add("ae-studio/left", 1)
    else:
        deadline = time.time() + 120
        while store.add("ae-studio/left", 0) < world - 1 and time.time() < deadline:
            time.sleep(0.05)
        dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def check_weights(model, job):
    sd = model.state_dict()
    want = {w["key"]: list(w["shape"]) for w in job["weights"]}
    got = {k: list(v.shape) for k, v in sd.items()}
    if want != got:
        diff = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
        sys.exit("train.py built a model that does not match job.json's weights (%s): this train.py is not the one written with job.json" % ", ".join(sorted(diff)[:5]))


def predict(job, args):
    model = Autoencoder(job["model"])
    check_weights(model, job)
    src = args.weights
    if not src:
        ck = readable_checkpoint(args.out)
        src = os.path.join(ck, "model.safetensors") if ck else os.path.join(HERE, job["init"]["model"])
    model.load_state_dict(load_file(src))
    model.eval()
    x = np.load(args.predict)
    x = torch.from_numpy(x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32))
    with torch.no_grad():
        heads = model.encoder(x)
        recon = model.decoder(heads[0])
    out = args.predict_out or os.path.join(args.out, "predict")
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "reconstruction.npy"), recon.numpy().astype(np.float32))
    np.save(os.path.join(out, "code.npy"), heads[0].numpy().astype(np.float32))
    if len(heads) > 1:
        np.save(os.path.join(out, "log_var.npy"), heads[1].numpy().astype(np.float32))
    say("wrote %d reconstructions from %s to %s" % (x.shape[0], src, out))


def main(argv=None):
    args = parse_args(argv)
    job = load_job(args.job)
    if args.predict:
        return predict(job, args)
    cfg = job["config"]
    plan = job["model"]
    refuse_unknown(cfg)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    device = pick_device(args.device, local_rank)
    backend = args.backend if args.backend != "auto" else ("nccl" if device.type == "cuda" else "gloo")
    distributed = "RANK" in os.environ
    store = None
    if distributed:
        store = init_process_group(backend, rank, world, restart)
        world, rank = dist.get_world_size(), dist.get_rank()
        # the job's restart: a node that restarted its workers for a peer's failure did not count it
        most = torch.tensor([restart], dtype=torch.int64, device=device)
        dist.all_reduce(most, op=dist.ReduceOp.MAX)
        restart = int(most.item())
    say("rank %d of %d: pid %d on %s, device %s, backend %s%s" % (rank, world, os.getpid(), socket.gethostname(), device, backend if distributed else "none", ", restart %d" % restart if restart else ""), rank)

    out = os.path.abspath(args.out)
    if rank == 0:
        os.makedirs(out, exist_ok=True)
        for name in os.listdir(out):
            if name.startswith("checkpoint.tmp-"):
                shutil.rmtree(os.path.join(out, name), ignore_errors=True)

    # data: the studio's images (uint8) and its train / validation split
    arrays = open_safetensors(os.path.join(HERE, job["dataset"]["file"]))
    images = arrays["images"]
    train_idx = np.asarray(arrays["train_index"], dtype=np.int64)
    val_idx = np.asarray(arrays["val_index"], dtype=np.int64)
    # the test split (kept apart: measured once, at the end, as the studio does); older jobs have none
    test_idx = np.asarray(arrays["test_index"], dtype=np.int64) if "test_index" in arrays else np.zeros(0, dtype=np.int64)
    labels = np.asarray(arrays["labels"], dtype=np.int64)
    augment = cfg.get("augment") if augment_active(cfg.get("augment")) else None
    h, w, c = plan["inputShape"]
    pixels = h * w * c
    # random crops (cropSize): the images are the studio's whole pictures; each batch takes the crops
    # the studio would (crop_origin: seed, epoch, row); validation, test and measures epoch 0's fixed crops
    crop = int(cfg.get("cropSize") or 0)
    if crop and (images.shape[1] < crop or images.shape[2] < crop):
        sys.exit("this job trains on %d px crops but its pictures are %d x %d." % (crop, images.shape[1], images.shape[2]))
    crop_seed = int(cfg["seed"])
    on_device = images.nbytes <= (2 << 30)
    if on_device:
        images_t = torch.from_numpy(np.array(images, copy=True)).to(device)

    def batch_of(idx, epoch=0):
        if on_device:
            x = images_t.index_select(0, torch.as_tensor(idx, device=device))
            return (crop_batch(x, idx, crop_seed, epoch, crop) if crop else x).float().div_(255.0)
        # read in file order, handed back in the batch's order (rows matter: augmentation, labels)
        s = np.argsort(idx, kind="stable")
        rows = np.empty((len(idx),) + images.shape[1:], dtype=np.float32)
        rows[s] = images[np.asarray(idx)[s]]
        x = torch.from_numpy(rows / 255.0)
        return (crop_batch(x, idx, crop_seed, epoch, crop) if crop else x).to(device)

    global_batch = args.batch_size or int(cfg["batchSize"])
    per_rank = max(1, global_batch // world)
    if rank == 0 and per_rank * world != global_batch:
        say("the global batch %d does not split evenly over %d workers: %d per worker (%d in all)" % (global_batch, world, per_rank, per_rank * world), rank)

    seed = int(cfg["seed"])
    torch.manual_seed(seed)
    model = Autoencoder(plan).to(device)
    if args.precision == "fp16" and device.type != "cuda":
        sys.exit("--precision fp16 needs a CUDA GPU (this worker runs on %s); on CPU use --precision bf16, the nearest that runs here." % device)
    if args.precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        sys.exit("--precision bf16 needs a GPU with bfloat16 (Ampere or newer); use --precision fp16 on this one.")
    if args.channels_last:
        if plan["convInput"]:
            model.encoder.channels_last = True
            model = model.to(memory_format=torch.channels_last)
        elif rank == 0:
            say("--channels-last applies to conv kinds only; this %s model trains as it is" % cfg["kind"], rank)
    check_weights(model, job)
    opt = StudioOptimizer(model.named_parameters(), cfg)

    # where to start: the last checkpoint, else the initial weights the studio wrote, else Glorot
    start_epoch = int(job["startEpoch"])
    target = start_epoch + (args.epochs if args.epochs is not None else int(job["epochs"]))
    state = None
    if rank == 0:
        ck = readable_checkpoint(out)
        if ck:
            with open(os.path.join(ck, "state.json"), "r", encoding="utf-8") as f:
                state = json.load(f)
            model.load_state_dict(load_file(os.path.join(ck, "model.safetensors"), device=str(device)))
            opt.load_state_tensors(load_file(os.path.join(ck, "optimizer.safetensors"), device=str(device)), state["iterations"])
            state["resumedFrom"] = state["epochsDone"]
        else:
            init = job.get("init") or {}
            if init.get("model"):
                model.load_state_dict(load_file(os.path.join(HERE, init["model"]), device=str(device)))
            else:
                glorot_init(model, seed)
            if init.get("optimizer"):
                opt.load_state_tensors(load_file(os.path.join(HERE, init["optimizer"]), device=str(device)), init.get("iterations", 0))
            prior = job.get("history") or {"loss": [], "valLoss": []}
            state = {"format": JOB_FORMAT, "version": JOB_VERSION, "epochsDone": start_epoch, "startEpoch": start_epoch,
                     "history": {"loss": list(prior["loss"]), "valLoss": list(prior["valLoss"])},
                     "bestValLoss": job.get("bestValLoss"), "sinceBest": int(job.get("sinceBest") or 0),
                     "iterations": opt.iterations, "epochs": [], "resumedFrom": None}
        state["targetEpoch"] = target
    if distributed:
        box = [state]
        dist.broadcast_object_list(box, src=0)
        state = box[0]
        # the optimizer state from rank 0; the parameters are broadcast by DDP itself
        for t in opt.state_tensors().values():
            dist.broadcast(t, src=0)
        opt.iterations = int(state["iterations"])
        ddp = DDP(model, device_ids=[local_rank] if device.type == "cuda" else None, gradient_as_bucket_view=True)
    else:
        ddp = model
    step_model = ddp
    if args.compile:
        try:
            step_model = torch.compile(ddp)
        except Exception as e:  # e.g. a platform torch.compile does not support
            say("torch.compile is not available here (%s); training without it" % str(e).splitlines()[0][:200], rank)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    scaler = LossScale() if args.precision == "fp16" else None
    if rank == 0 and (amp_dtype is not None or args.channels_last or args.compile):
        say("precision %s%s%s" % (args.precision, ", channels-last" if args.channels_last and plan["convInput"] else "", ", torch.compile" if step_model is not ddp else ""), rank)

    def forward(x):
        """The model's outputs in float32 (under autocast for --precision bf16 / fp16); --compile falls back to eager on its first failure."""
        nonlocal step_model
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            try:
                out_t = step_model(x)
            except Exception as e:
                if step_model is ddp:
                    raise
                say("torch.compile did not work here (%s); training without it" % (str(e).strip().splitlines() or [type(e).__name__])[0][:300], rank)
                step_model = ddp
                out_t = ddp(x)
        return tuple(t.float() if t is not None else None for t in out_t)

    done_epochs = int(state["epochsDone"])
    metrics = os.path.join(out, "metrics.jsonl")
    if rank == 0:
        # metrics.jsonl always agrees with the checkpoint (a kill between the two writes loses nothing)
        write_text_atomic(metrics, "".join(json.dumps(r) + "\n" for r in state["epochs"]))
        if state.get("resumedFrom") is not None:
            say("resuming after epoch %d (checkpoint in %s); training to epoch %d" % (done_epochs, os.path.join(out, "checkpoint"), target), rank)
        else:
            say("starting at epoch %d, training to epoch %d on %d worker%s, %d images (%d for validation%s), global batch %d" % (
                done_epochs + 1, target, world, "" if world == 1 else "s", len(train_idx), len(val_idx), ", %d for the test at the end" % len(test_idx) if len(test_idx) else "", per_rank * world), rank)
        done_file = os.path.join(out, "done.json")
        if done_epochs < target and os.path.exists(done_file):
            os.remove(done_file)

    if cfg.get("balanceClasses"):
        # the studio's balanced order (seeded with seed + epoch), shared out in global batches
        train_labels = labels[train_idx]
        sampler = GlobalBatchSampler(lambda e: balanced_order(train_labels, seed + e), len(train_idx), world, rank, per_rank)
    else:
        sampler = DistributedSampler(range(len(train_idx)), num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
    progress = os.path.join(out, "progress.json")
    if rank == 0:
        write_text_atomic(progress, json.dumps({"format": JOB_FORMAT, "status": "training", "epochsDone": done_epochs, "startEpoch": int(state["startEpoch"]), "targetEpoch": target,
                                                "worldSize": world, "restart": restart, "time": datetime.datetime.now(datetime.timezone.utc).isoformat()}))
    patience = int(cfg.get("earlyStoppingPatience") or 0)
    stop_reason = "done"
    for epoch in range(done_epochs + 1, target + 1):
        sampler.set_epoch(epoch)
        # noise and VAE samples of this epoch depend on (seed, epoch, rank) only: a resumed epoch repeats
        torch.manual_seed(seed * 1000003 + epoch * 7919 + rank)
        beta = kl_beta(cfg, epoch)
        order = np.fromiter(iter(sampler), dtype=np.int64)
        positions = train_idx[order]
        batches = max(1, math.ceil(len(positions) / per_rank))
        log_every = args.log_every or max(1, batches // 10)
        ddp.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        seen = torch.zeros((), dtype=torch.float64, device=device)
        started = time.time()
        for b in range(batches):
            idx = positions[b * per_rank:(b + 1) * per_rank]
            target_x = batch_of(idx, epoch)
            if augment:
                # the studio's augmentation of this step's global batch (seed * 7919 + step), this worker's rows
                target_x = augment_batch(target_x, augment, (seed * 7919 + opt.iterations) & M32, len(idx) * world, rank * len(idx))
            out_t = forward(corrupt(target_x, cfg["noise"]))
            loss = objective(out_t, target_x, cfg, beta, pixels)
            opt.zero_grad()
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.backward_and_step(loss, model, opt)
            loss_sum += loss.detach().double() * len(idx)
            seen += len(idx)
            if rank == 0 and (b == 0 or (b + 1) % log_every == 0 or b + 1 == batches):
                say("epoch %d/%d batch %d/%d loss %.6f" % (epoch, target, b + 1, batches, loss.item()), rank)
        if distributed:
            both = torch.stack([loss_sum, seen])
            dist.all_reduce(both)
            loss_sum, seen = both[0], both[1]
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.time() - started
        train_loss = float(loss_sum / seen)

        # validation: the studio's objective on the held-out images, split over the ranks
        val_loss = None
        if len(val_idx):
            torch.manual_seed(seed * 7919 + epoch)
            model.eval()
            vs = torch.zeros((), dtype=torch.float64, device=device)
            vn = torch.zeros((), dtype=torch.float64, device=device)
            mine = val_idx[rank::world]
            with torch.no_grad():
                for i in range(0, len(mine), int(cfg["batchSize"])):
                    idx = mine[i:i + int(cfg["batchSize"])]
                    x = batch_of(idx)
                    vs += objective(model(corrupt(x, cfg["noise"])), x, cfg, beta, pixels).double() * len(idx)
                    vn += len(idx)
            if distributed:
                both = torch.stack([vs, vn])
                dist.all_reduce(both)
                vs, vn = both[0], both[1]
            val_loss = float(vs / vn)

        if not math.isfinite(train_loss) or (val_loss is not None and not math.isfinite(val_loss)):
            if rank == 0:
                write_text_atomic(progress, json.dumps({"format": JOB_FORMAT, "status": "failed", "epochsDone": done_epochs, "startEpoch": int(state["startEpoch"]), "targetEpoch": target,
                                                        "worldSize": world, "restart": restart, "time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "message": "the loss became %s in epoch %d" % (train_loss, epoch)}))
                say("the loss became %s in epoch %d: training diverged. Try a lower learning rate (now %s), a smaller beta or a sigmoid output. The last good checkpoint (epoch %d) is kept." % (train_loss, epoch, cfg["learningRate"], done_epochs), rank)
            if distributed:
                leave(store, rank, world, 3)
            sys.exit(3)

        samples_per_sec = len(train_idx) / max(seconds, 1e-6)
        record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "samples_per_sec": samples_per_sec, "world_size": world,
                  "seconds": seconds, "restart": restart, "time": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        state["history"]["loss"].append(train_loss)
        state["history"]["valLoss"].append(val_loss)
        state["epochs"].append(record)
        state["epochsDone"] = epoch
        state["iterations"] = opt.iterations
        monitored = val_loss if val_loss is not None else train_loss
        if state["bestValLoss"] is None or monitored < state["bestValLoss"] - 1e-7:
            state["bestValLoss"] = monitored
            state["sinceBest"] = 0
        else:
            state["sinceBest"] += 1
        done_epochs = epoch
        if rank == 0:
            write_checkpoint(out, model, opt, state)
            with open(metrics, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            write_text_atomic(progress, json.dumps({"format": JOB_FORMAT, "status": "training", "epochsDone": epoch, "startEpoch": int(state["startEpoch"]), "targetEpoch": target,
                                                    "worldSize": world, "restart": restart, "lastEpochSeconds": seconds, "time": record["time"]}))
            say("epoch %d/%d: loss %.6f, validation %s, %.0f samples/s on %d worker%s; checkpoint written" % (
                epoch, target, train_loss, "%.6f" % val_loss if val_loss is not None else "-", samples_per_sec, world, "" if world == 1 else "s"), rank)
        if patience > 0 and state["sinceBest"] >= patience and epoch < target:
            stop_reason = "early-stopping"
            break

    test_metrics = None
    if rank == 0 and len(test_idx):
        test_metrics = measure_split(model, cfg, batch_of, test_idx, labels, kl_beta(cfg, done_epochs), pixels, seed)
        say("test split (%d images, never trained on): loss %.6f, MSE %.6f, PSNR %.2f dB" % (test_metrics["count"], test_metrics["loss"], test_metrics["mse"], test_metrics["psnr"]), rank)
    if rank == 0:
        message = ("No better validation loss for %d epochs: stopped early after epoch %d." % (patience, done_epochs)) if stop_reason == "early-stopping" else "Finished %d epochs." % done_epochs
        done = {"format": JOB_FORMAT, "epochsDone": done_epochs, "reason": stop_reason, "message": message}
        if test_metrics is not None:
            done["test"] = test_metrics
        write_text_atomic(os.path.join(out, "done.json"), json.dumps(done))
        write_text_atomic(progress, json.dumps({"format": JOB_FORMAT, "status": "done", "epochsDone": done_epochs, "startEpoch": int(state["startEpoch"]), "targetEpoch": target,
                                                "worldSize": world, "restart": restart, "time": datetime.datetime.now(datetime.timezone.utc).isoformat()}))
        say(message + " Bring the model back with: ae-studio job import %s --workspace WS" % HERE, rank)
    if distributed:
        dist.barrier()
        leave(store, rank, world)


if __name__ == "__main__":
    main()
`.replace('__KIND_CODES__', KIND_CODES);
