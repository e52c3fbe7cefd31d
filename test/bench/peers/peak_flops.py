"""The machine's float32 matmul peak, for the benches' "share of peak": the best time of an n x n
by n x n float32 product (2 n^3 FLOPs) in PyTorch (its MKL / oneDNN gemm), on 1 thread and on all
cores. The product is checked against float64 so that a library dropping to bf16/tf32 would show.

    python peak_flops.py [--n 4096] [--repeats 5]

Prints one "RESULT {json}" line per thread count: {"kind": "peak", "lib": "torch", "threads", "gflops", ...}.
"""
import argparse
import json
import os
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    if a.n < 64 or a.repeats < 1:
        ap.error("--n must be at least 64 and --repeats at least 1")
    torch.manual_seed(1)
    x = torch.rand(a.n, a.n)
    y = torch.rand(a.n, a.n)
    check = (x[:64].double() @ y.double())
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        got = torch.mm(x, y)
        rel_err = float((got[:64].double() - check).abs().max() / check.abs().max())
        best = float("inf")
        for _ in range(a.repeats):
            start = time.perf_counter()
            torch.mm(x, y)
            best = min(best, time.perf_counter() - start)
        print("RESULT " + json.dumps({"kind": "peak", "lib": "torch", "threads": threads, "n": a.n,
                                      "gflops": round(2 * a.n ** 3 / best / 1e9, 1),
                                      "rel_err_vs_f64": float(f"{rel_err:.2g}")}), flush=True)


if __name__ == "__main__":
    main()
