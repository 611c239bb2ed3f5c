#!/usr/bin/env python3
"""attnbench's Performer against performer-pytorch's FAVOR+ on the same random features.

Usage: performer_agreement.py PATH/TO/attnbench

`attnbench eval --mechanism performer --random-out W.npy` writes the features it drew (W = d^(-1/4)
omega, [m, d]); performer-pytorch's `softmax_kernel` takes omega itself and scales the data by
d^(-1/4), so it gets W * d^(1/4). Its features subtract ||x'||^2/2 and a maximum as ours do (a
query's row maximum and its norm term are common factors of the row, the keys' maximum a common
factor of all keys, so they cancel in attention's ratio) and add eps = 1e-4 inside, which is set
to 0 here; its non-causal normaliser has no epsilon and its causal one adds 1e-6 to every entry of
the running key sum (set to 0 here too), ours adds 1e-6 to the denominator (put into theirs: their
output times den / (den + 1e-6)). Non-causal through `linear_attention`, causal
through `causal_linear_attention_noncuda`. Agreement: max |ours - theirs| <= 1e-4 * max |theirs|.
Without performer-pytorch (and torch) the check prints why and exits 0.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def main():
    binary = sys.argv[1]
    try:
        import torch
        from performer_pytorch.performer_pytorch import (causal_linear_attention_noncuda, linear_attention,
                                                         softmax_kernel)
    except ImportError as error:
        print(f"performer-agreement: skipped, performer-pytorch is not installed ({error})")
        return 0
    rng = np.random.default_rng(5)
    b, h, n, d, m = 1, 2, 64, 16, 48
    q, k, v = (rng.standard_normal((b, h, n, d)).astype(np.float32) * 0.5 for _ in range(3))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: os.path.join(tmp, name + ".npy") for name in ("q", "k", "v", "out", "w")}
        for name, array in (("q", q), ("k", k), ("v", v)):
            np.save(paths[name], array)
        for causal in (False, True):
            subprocess.run([binary, "eval", "--mechanism", "performer", "--features", str(m), "--q", paths["q"],
                            "--k", paths["k"], "--v", paths["v"], "--out", paths["out"], "--random-out", paths["w"],
                            "--overwrite"] + (["--causal"] if causal else []), check=True)
            ours = np.load(paths["out"]).astype(np.float64)
            omega = torch.from_numpy(np.load(paths["w"]).astype(np.float64) * d ** 0.25)
            tq, tk, tv = (torch.from_numpy(x.astype(np.float64)) for x in (q, k, v))
            fq = softmax_kernel(tq, projection_matrix=omega, is_query=True, eps=0)
            fk = softmax_kernel(tk, projection_matrix=omega, is_query=False, eps=0)
            # Its causal form adds eps = 1e-6 to every entry of the running key sum: set to 0 too.
            theirs = causal_linear_attention_noncuda(fq, fk, tv, eps=0) if causal else linear_attention(fq, fk, tv)
            # Ours divides by den + 1e-6 where theirs divides by den: put our epsilon into theirs, on our
            # features' scale (theirs are ours times exp(-||q'||^2/2) per query row, and times one
            # constant C over the keys, the two maxima's difference).
            den = (fq * (fk.cumsum(dim=-2) if causal else fk.sum(dim=-2, keepdim=True))).sum(dim=-1, keepdim=True)
            half = (tq * tq).sum(dim=-1, keepdim=True) / (2 * d ** 0.5)
            u = (tk * d ** -0.25) @ omega.T
            keyHalf = (tk * tk).sum(dim=-1, keepdim=True) / (2 * d ** 0.5)
            c = torch.exp((u - keyHalf).amax(dim=(-1, -2), keepdim=True) - u.amax(dim=(-1, -2), keepdim=True))
            ours_den = den * torch.exp(half) / c
            theirs = (theirs * ours_den / (ours_den + 1e-6)).numpy()
            error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
            ok = error <= 1e-4
            failures += not ok
            print(f"performer-agreement: {'causal' if causal else 'non-causal':<10} max |ours - performer-pytorch| / "
                  f"max |theirs| = {error:.1e}  {'ok' if ok else 'FAIL'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
