# KL warm-up of a cluster job, for test/integration/cluster-job.test.ts. The job folder's own
# train.py is loaded as a module and:
#  1. trains its epochs one launch at a time (main(["--epochs", "k"]) for k = 1, 2, ..., each
#     continuing from the checkpoint the previous one wrote: --epochs counts from the job's start),
#     recording the beta its training loop hands to the
#     objective in every batch (training and validation) of each epoch;
#  2. evaluates its objective on fixed weights (the job's init/model.safetensors), a fixed batch
#     and a fixed epsilon (the VAE's sample noise, given instead of torch.randn_like) with the
#     beta its loop used in each epoch, in float32 as it trains.
# Writes the result as JSON to RESULT.json (stdout is train.py's own log).
#   python job_kl_warmup.py JOB_DIR EPOCHS BATCH.npy EPS.npy RESULT.json
import importlib.util
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file

job_dir, epochs, batch_file, eps_file, result_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
spec = importlib.util.spec_from_file_location("job_train", os.path.join(job_dir, "train.py"))
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
job = mod.load_job(os.path.join(job_dir, "job.json"))
cfg = job["config"]

# 1. the beta the training loop uses, epoch by epoch
objective = mod.objective
seen = []


def spy(out, target, cfg_, beta, pixels):
    seen.append(float(beta))
    return objective(out, target, cfg_, beta, pixels)


mod.objective = spy
epochs_out = []
for k in range(1, epochs + 1):
    del seen[:]
    mod.main(["--epochs", str(k), "--log-every", "1000"])
    with open(os.path.join(job_dir, "out", "checkpoint", "state.json"), "r", encoding="utf-8") as f:
        epoch = json.load(f)["epochsDone"]
    epochs_out.append({"epoch": epoch, "loopBetas": sorted(set(seen)), "objectiveCalls": len(seen), "klBeta": mod.kl_beta(cfg, epoch)})
mod.objective = objective

# 2. the objective on fixed weights, batch and epsilon, with each epoch's beta
h, w, c = job["model"]["inputShape"]
model = mod.Autoencoder(job["model"])
model.load_state_dict(load_file(os.path.join(job_dir, job["init"]["model"])))
x = torch.from_numpy(np.load(batch_file).astype(np.float32))
eps = torch.from_numpy(np.load(eps_file).astype(np.float32))
randn_like = torch.randn_like


def fixed_eps(t, *args, **kwargs):
    if tuple(t.shape) != tuple(eps.shape):
        raise SystemExit("epsilon is %s, the code is %s" % (tuple(eps.shape), tuple(t.shape)))
    return eps.clone()


torch.randn_like = fixed_eps
try:
    with torch.no_grad():
        for e in epochs_out:
            e["loss"] = float(objective(model(x), x, cfg, e["loopBetas"][0], h * w * c)) if len(e["loopBetas"]) == 1 else None
finally:
    torch.randn_like = randn_like

with open(result_file, "w", encoding="utf-8") as f:
    json.dump({"epochs": epochs_out}, f)
