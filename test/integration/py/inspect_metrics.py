# Reference inspection metrics for test/integration/inspect-metrics.test.ts, written independently of
# the studio: scikit-learn for the image and pixel metrics, and the MVTec AD definition of PRO
# (Bergmann et al., IJCV 2021) with scipy.ndimage.label (8-connectivity) for AUPRO.
# Input: a JSON file {scores, positive, maps (N*H*W), masks (N*H*W), n, h, w}; prints RESULT <json>.
import json
import sys
from bisect import bisect

import numpy as np
from scipy.ndimage import label
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score


def compute_pro(maps, masks):
    structure = np.ones((3, 3), dtype=int)
    ok_pixels = 0
    regions = 0
    fp_change = np.zeros(maps.shape, dtype=np.float64)
    pro_change = np.zeros(maps.shape, dtype=np.float64)
    for i, gt in enumerate(masks):
        labelled, count = label(gt, structure)
        regions += count
        ok = labelled == 0
        ok_pixels += ok.sum()
        fp_change[i][ok] = 1
        for k in range(count):
            region = labelled == (k + 1)
            pro_change[i][region] = 1.0 / region.sum()
    flat = maps.ravel()
    order = np.argsort(flat, kind="stable")[::-1]
    s = flat[order]
    fprs = np.cumsum(fp_change.ravel()[order]) / ok_pixels
    pros = np.cumsum(pro_change.ravel()[order]) / regions
    keep = np.append(np.diff(s) != 0, True)
    fprs = np.concatenate([[0.0], np.clip(fprs[keep], 0, 1)])
    pros = np.concatenate([[0.0], np.clip(pros[keep], 0, 1)])
    return fprs, pros


def trapezoid(x, y, x_max):
    correction = 0.0
    if x_max not in x:
        ins = bisect(x, x_max)
        y_interp = y[ins - 1] + (y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1])
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    mask = x <= x_max
    x, y = x[mask], y[mask]
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction)


d = json.load(open(sys.argv[1]))
scores = np.array(d["scores"], dtype=np.float64)
pos = np.array(d["positive"], dtype=int)
n, h, w = d["n"], d["h"], d["w"]
maps = np.array(d["maps"], dtype=np.float32).reshape(n, h, w).astype(np.float64)
masks = (np.array(d["masks"]).reshape(n, h, w) > 0).astype(int)
p, r, t = precision_recall_curve(pos, scores)
f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-300), 0)[:-1]
best = int(np.argmax(f1))
fprs, pros = compute_pro(maps, masks)
out = {
    "imageAuroc": float(roc_auc_score(pos, scores)),
    "imageAupr": float(average_precision_score(pos, scores)),
    "f1Max": float(f1[best]),
    "f1Threshold": float(t[best]),
    "pixelAuroc": float(roc_auc_score(masks.ravel(), maps.ravel())),
    "aupro": trapezoid(fprs, pros, 0.3) / 0.3,
}
print("RESULT " + json.dumps(out))
