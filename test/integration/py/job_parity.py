# Parity of a cluster job's train.py with the studio, for test/integration/cluster-parity.test.ts.
# The job folder's own train.py is loaded as a module and asked, request by request:
#   {"op": "augment-indices", "n", "h", "w", "a", "seed"}   -> indices (the studio's flattened batch
#        indexing: (k*h + y)*w + x; a position outside a picture takes its nearest edge pixel) and gains
#   {"op": "augment-pixels", "batch": FILE.npy, "a", "seed", "rows": [first, count], "out": FILE.npy}
#        -> the rows first..first+count of the augmented global batch (float32 .npy)
#   {"op": "balanced", "labels": [...], "seed", "world", "perRank"} -> the studio's balanced order
#        (balanced_order) and each worker's draws from GlobalBatchSampler
#   {"op": "crop-origins", "seed", "epochs": [...], "rows": [...], "h", "w", "size"} -> [[top, left], ...]
#        for every epoch, then every row (crop_origin)
#   {"op": "crop-pixels", "batch": FILE.npy, "rows": [...], "seed", "epoch", "size", "out": FILE.npy}
#        -> the batch's crops in that epoch (crop_batch; float32 .npy)
#   {"op": "train", "epochs": k, "args": [...]} -> trains k epochs in this process (main, with more
#        train.py options), recording every call of augment_batch (seed, global batch size, first row, rows)
#   {"op": "objective", "input": FILE.npy, "target": FILE.npy} -> train.py's objective (float32, the
#        config's beta) of the model with the job's initial weights (init/model.safetensors) on that
#        batch: model(input) against target
# Writes {"name": result, ...} as JSON to RESULT.json.
#   python job_parity.py JOB_DIR REQUESTS.json RESULT.json
import importlib.util
import json
import os
import sys

import numpy as np

job_dir, req_file, result_file = sys.argv[1], sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location("job_train", os.path.join(job_dir, "train.py"))
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
with open(req_file, "r", encoding="utf-8") as f:
    requests = json.load(f)

out = {}
for name, r in requests.items():
    op = r["op"]
    if op == "augment-indices":
        n, h, w = r["n"], r["h"], r["w"]
        idx, gains = mod.augment_indices(n, h, w, r["a"], r["seed"])
        flat = idx + (np.arange(n)[:, None] * h * w)
        out[name] = {"indices": flat.reshape(-1).tolist(), "gains": gains.tolist()}
    elif op == "augment-pixels":
        import torch

        x = torch.from_numpy(np.load(r["batch"]).astype(np.float32))
        first, count = r["rows"]
        y = mod.augment_batch(x[first:first + count], r["a"], r["seed"], x.shape[0], first)
        np.save(r["out"], y.numpy().astype(np.float32))
        out[name] = {"shape": list(y.shape)}
    elif op == "balanced":
        labels = np.asarray(r["labels"], dtype=np.int64)
        order = mod.balanced_order(labels, r["seed"])
        ranks = []
        for rank in range(r["world"]):
            s = mod.GlobalBatchSampler(lambda e: mod.balanced_order(labels, e), len(labels), r["world"], rank, r["perRank"])
            s.set_epoch(r["seed"])
            ranks.append(list(iter(s)))
        out[name] = {"order": order.tolist(), "ranks": ranks}
    elif op == "crop-origins":
        out[name] = [list(mod.crop_origin(r["seed"], e, row, r["h"], r["w"], r["size"])) for e in r["epochs"] for row in r["rows"]]
    elif op == "crop-pixels":
        import torch

        x = torch.from_numpy(np.load(r["batch"]).astype(np.float32))
        y = mod.crop_batch(x, r["rows"], r["seed"], r["epoch"], r["size"])
        np.save(r["out"], y.numpy().astype(np.float32))
        out[name] = {"shape": list(y.shape)}
    elif op == "train":
        calls = []
        real = mod.augment_batch

        def spy(x, a, seed, n_global, first_row):
            calls.append({"seed": int(seed), "nGlobal": int(n_global), "firstRow": int(first_row), "rows": int(x.shape[0])})
            return real(x, a, seed, n_global, first_row)

        mod.augment_batch = spy
        mod.main(["--epochs", str(r["epochs"]), "--log-every", "1000"] + list(r.get("args", [])))
        mod.augment_batch = real
        out[name] = {"augmentCalls": calls}
    elif op == "objective":
        import torch
        from safetensors.torch import load_file

        job = mod.load_job(os.path.join(job_dir, "job.json"))
        cfg = job["config"]
        h, w, c = job["model"]["inputShape"]
        model = mod.Autoencoder(job["model"])
        model.load_state_dict(load_file(os.path.join(job_dir, job["init"]["model"])))
        model.eval()
        inp = torch.from_numpy(np.load(r["input"]).astype(np.float32))
        target = torch.from_numpy(np.load(r["target"]).astype(np.float32))
        with torch.no_grad():
            out[name] = {"loss": float(mod.objective(model(inp), target, cfg, float(cfg["beta"]), h * w * c))}
    else:
        raise SystemExit("unknown request %r" % (op,))

with open(result_file, "w", encoding="utf-8") as f:
    json.dump(out, f)
