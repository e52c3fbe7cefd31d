"""Independent Fréchet distance and precision/recall (Kynkäänniemi et al. 2019, k-NN manifolds) for
the generation tests: scipy.linalg.sqrtm for the matrix square root, scipy's cdist for distances.

usage: generation_metrics.py real.npy fake.npy [k]  ->  JSON {"frechet", "precision", "recall"} on stdout
"""
import json
import sys

import numpy as np
from scipy import linalg
from scipy.spatial.distance import cdist


def frechet(a, b):
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(c1.dot(c2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.trace(covmean))


def radii(x, k):
    d = cdist(x, x, "sqeuclidean")
    # the k-th nearest neighbour other than the point itself (its own distance 0 sorts first)
    return np.sort(d, axis=1)[:, k]


def coverage(query, manifold, r):
    d = cdist(query, manifold, "sqeuclidean")
    return float((d <= r[None, :]).any(axis=1).mean())


def main():
    real = np.load(sys.argv[1]).astype(np.float64)
    fake = np.load(sys.argv[2]).astype(np.float64)
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    out = {
        "frechet": frechet(real, fake),
        "precision": coverage(fake, real, radii(real, k)),
        "recall": coverage(real, fake, radii(fake, k)),
    }
    print(json.dumps(out))


main()
