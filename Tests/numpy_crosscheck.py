#!/usr/bin/env python3
"""Cross-checks `attnbench eval` against NumPy implementations of the four mechanisms.

Usage: numpy_crosscheck.py PATH/TO/attnbench

For each mechanism (and causal variant), writes seeded float32 .npy inputs, runs the binary, and
compares its output with a Float64 NumPy implementation written independently of the Swift code.
Flash attention is exact softmax attention, so it is compared with the same `standard` function:
with its default tiles (n = 97 is smaller than one block) and with 16x32 tiles (97 rows are six
query blocks and a tail of 1, four key blocks, the last of 1).
The tolerance is float32 precision: max |swift - numpy| <= 1e-5 * max |numpy| (n <= 300 terms per
sum and u = 6e-8 give worst-case bounds of a few 1e-5; observed errors are ~1e-7).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def standard(q, k, v, causal):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # [..., n, n]
    if causal:
        n = q.shape[-2]
        s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
    return softmax(s) @ v


def linformer(q, k, v, e, f):
    kp = np.einsum("kn,bhnd->bhkd", e, k)  # [b, h, k, d]
    vp = np.einsum("kn,bhnd->bhkd", f, v)
    return softmax(q @ np.swapaxes(kp, -1, -2) / np.sqrt(q.shape[-1])) @ vp


def linear(q, k, v, causal, eps=1e-6):
    phi = lambda x: np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))
    fq, fk = phi(q), phi(k)
    a = fq @ np.swapaxes(fk, -1, -2)  # [b, h, n, n], the quadratic form
    if causal:
        a = np.tril(a)
    return (a @ v) / (a.sum(axis=-1, keepdims=True) + eps)


def main():
    binary = sys.argv[1]
    rng = np.random.default_rng(1234)
    b, h, n, d, kp = 2, 3, 97, 32, 24
    q, k, v = (rng.standard_normal((b, h, n, d)).astype(np.float32) for _ in range(3))
    e = (rng.standard_normal((kp, n)) / np.sqrt(kp)).astype(np.float32)
    f = (rng.standard_normal((kp, n)) / np.sqrt(kp)).astype(np.float32)
    q64, k64, v64, e64, f64 = (x.astype(np.float64) for x in (q, k, v, e, f))
    cases = [
        ("standard", [], standard(q64, k64, v64, False)),
        ("standard", ["--causal"], standard(q64, k64, v64, True)),
        ("linformer", ["--e", "E", "--f", "F"], linformer(q64, k64, v64, e64, f64)),
        ("linformer", ["--e", "E"], linformer(q64, k64, v64, e64, e64)),
        ("linear", [], linear(q64, k64, v64, False)),
        ("linear", ["--causal"], linear(q64, k64, v64, True)),
        ("flash", [], standard(q64, k64, v64, False)),
        ("flash", ["--causal"], standard(q64, k64, v64, True)),
        ("flash", ["--blocks", "16x32"], standard(q64, k64, v64, False)),
        ("flash", ["--blocks", "16x32", "--causal"], standard(q64, k64, v64, True)),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: os.path.join(tmp, name + ".npy") for name in "QKVEF"}
        for name, array in zip("QKVEF", (q, k, v, e, f)):
            np.save(paths[name], array)
        out = os.path.join(tmp, "out.npy")
        for mechanism, extra, expected in cases:
            extra = [paths.get(x, x) for x in extra]
            subprocess.run([binary, "eval", "--mechanism", mechanism, "--q", paths["Q"], "--k", paths["K"],
                            "--v", paths["V"], "--out", out, "--overwrite"] + extra, check=True)
            got = np.load(out)
            error = float(np.abs(got.astype(np.float64) - expected).max())
            scale = float(np.abs(expected).max())
            ok = got.shape == expected.shape and error <= 1e-5 * scale
            failures += not ok
            label = " ".join([mechanism] + [x for x in extra if x.startswith("--") or x == "16x32"])
            print(f"numpy-crosscheck: {label:<28} max |err| {error:.3e} (scale {scale:.3f})  {'ok' if ok else 'FAIL'}")
    print(f"numpy-crosscheck: {len(cases) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
