#!/usr/bin/env python3
"""Cross-checks `attnbench eval` against NumPy implementations of the mechanisms.

Usage: numpy_crosscheck.py PATH/TO/attnbench

For each mechanism (and causal variant), writes seeded float32 .npy inputs, runs the binary, and
compares its output with a Float64 NumPy implementation written independently of the Swift code.
Flash attention is exact softmax attention, so it is compared with the same `standard` function:
with its default tiles (n = 97 is smaller than one block) and with 16x32 tiles (97 rows are six
query blocks and a tail of 1, four key blocks, the last of 1).
The tolerance is float32 precision: max |swift - numpy| <= 1e-5 * max |numpy| (n <= 300 terms per
sum and u = 6e-8 give worst-case bounds of a few 1e-5; observed errors are ~1e-7).

Then the backward passes: `eval --grad-out dO.npy --grads-dir DIR` against NumPy gradients of
L = sum(dO * out), derived by hand from the formulas (reverse mode through the softmax, through
Linformer's E K and F V, and through linear attention's n x n quadratic form; not the Swift
kernels' blocked or cumulative-sum forms), themselves checked first against central differences
of the NumPy forward passes on a tiny shape. Each gradient must agree within 1e-4 of its largest
magnitude (the gradients chain two to four float32 sums, each n <= 97 or d = 32 terms long).

Performer and Reformer draw random projections of their own: `eval --random-out` writes them (W =
d^(-1/4) omega, [m, d]; the rotations [rounds, d, buckets/2]) and NumPy uses the same ones. Performer
is linear attention over FAVOR+ features (its shifts held constant in the gradients, as the kernel
does); Reformer is written as one softmax over a dense n x n matrix of multiplicities (how many
rounds put key j in query i's window), not the kernel's sorted chunks.
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


def linear(q, k, v, causal, eps=1e-6):
    phi = lambda x: np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))
    fq, fk = phi(q), phi(k)
    a = fq @ np.swapaxes(fk, -1, -2)  # [b, h, n, n], the quadratic form
    if causal:
        a = np.tril(a)
    return (a @ v) / (a.sum(axis=-1, keepdims=True) + eps)


def phi(x):
    return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))


def phi_slope(x):
    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))


def softmax_attention_grads(q, k, v, do, causal):
    """dq, dk, dv of sum(do * softmax(q k^T / sqrt(d)) v): the softmax Jacobian applied row by row,
    ds_ij = p_ij (dp_ij - sum_t p_it dp_it)."""
    scale = 1 / np.sqrt(q.shape[-1])
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        n = q.shape[-2]
        s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
    p = softmax(s)
    dv = np.swapaxes(p, -1, -2) @ do
    dp = do @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, dv


def linformer_grads(q, k, v, e, f, do):
    """dq, dk, dv, de, df through k' = e k and v' = f v; e, f are [k, n] (shared) or [h, k, n]."""
    spec = "kn,bhnd->bhkd" if e.ndim == 2 else "hkn,bhnd->bhkd"
    kp, vp = np.einsum(spec, e, k), np.einsum(spec, f, v)
    dq, dkp, dvp = softmax_attention_grads(q, kp, vp, do, False)
    back = "kn,bhkd->bhnd" if e.ndim == 2 else "hkn,bhkd->bhnd"
    outer = "bhkd,bhnd->kn" if e.ndim == 2 else "bhkd,bhnd->hkn"
    return dq, np.einsum(back, e, dkp), np.einsum(back, f, dvp), np.einsum(outer, dkp, k), np.einsum(outer, dvp, v)


def linear_grads(q, k, v, do, causal, eps=1e-6):
    """dq, dk, dv of sum(do * (a v) / (a 1 + eps)), a = phi(q) phi(k)^T (lower triangle when causal)."""
    fq, fk = phi(q), phi(k)
    a = fq @ np.swapaxes(fk, -1, -2)
    mask = np.tril(np.ones(a.shape[-2:])) if causal else np.ones(a.shape[-2:])
    a = a * mask
    num, den = a @ v, a.sum(axis=-1, keepdims=True) + eps
    dnum = do / den
    dden = -(do * num).sum(axis=-1, keepdims=True) / den ** 2
    da = (dnum @ np.swapaxes(v, -1, -2) + dden) * mask
    dv = np.swapaxes(a, -1, -2) @ dnum
    return (da @ fk) * phi_slope(q), (np.swapaxes(da, -1, -2) @ fq) * phi_slope(k), dv


def check_numpy_gradients():
    """The hand-derived gradients against central differences of the forward passes (float64)."""
    rng = np.random.default_rng(99)
    b, h, n, d, kp = 1, 2, 5, 3, 2
    q, k, v, do = (rng.standard_normal((b, h, n, d)) for _ in range(4))
    e, f = rng.standard_normal((kp, n)), rng.standard_normal((kp, n))
    eh = rng.standard_normal((h, kp, n))
    cases = [
        ("standard", lambda x: standard(*x, False), lambda x: softmax_attention_grads(*x, do, False), [q, k, v]),
        ("standard --causal", lambda x: standard(*x, True), lambda x: softmax_attention_grads(*x, do, True), [q, k, v]),
        ("linformer", lambda x: linformer(*x), lambda x: linformer_grads(*x, do), [q, k, v, e, f]),
        ("linformer per head", lambda x: linformer(*x), lambda x: linformer_grads(*x, do), [q, k, v, eh, eh + 0.5]),
        ("linear", lambda x: linear(*x, False), lambda x: linear_grads(*x, do, False), [q, k, v]),
        ("linear --causal", lambda x: linear(*x, True), lambda x: linear_grads(*x, do, True), [q, k, v]),
    ]
    return central_differences(cases, do)


def central_differences(cases, do, step=1e-6):
    """Each case's hand-derived gradients of sum(do * forward) against central differences of its
    forward (float64), within 1e-6 of the gradient's largest magnitude (or 1); the failures."""
    failures = 0
    for label, forward, grads, args in cases:
        analytic = grads(args)
        worst = 0.0
        for which, x in enumerate(args):
            numeric = np.zeros_like(x)
            for index in np.ndindex(x.shape):
                saved = x[index]
                x[index] = saved + step
                plus = (do * forward(args)).sum()
                x[index] = saved - step
                minus = (do * forward(args)).sum()
                x[index] = saved
                numeric[index] = (plus - minus) / (2 * step)
            worst = max(worst, float(np.abs(numeric - analytic[which]).max() / max(1.0, np.abs(analytic[which]).max())))
        ok = worst <= 1e-6
        failures += not ok
        print(f"numpy-crosscheck: gradients of {label:<20} vs central differences {worst:.1e}  {'ok' if ok else 'FAIL'}")
    return failures


def linformer(q, k, v, e, f):
    spec = "kn,bhnd->bhkd" if e.ndim == 2 else "hkn,bhnd->bhkd"
    kp, vp = np.einsum(spec, e, k), np.einsum(spec, f, v)
    return softmax(q @ np.swapaxes(kp, -1, -2) / np.sqrt(q.shape[-1])) @ vp


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
    failures = check_numpy_gradients() + check_random_mechanism_gradients()  # the NumPy gradients first
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
        failures += crosscheck_gradients(binary, tmp, paths, (q64, k64, v64, e64, f64), rng)
        do = np.load(paths["DO"]).astype(np.float64)
        failures += crosscheck_random_mechanisms(binary, tmp, paths, (q64, k64, v64), do)
        total = 6 + 4 + len(cases) + len(GRADIENT_CASES) + len(RANDOM_CASES)
    print(f"numpy-crosscheck: {total - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


GRADIENT_CASES = [
    ("standard", [], lambda x, do: softmax_attention_grads(*x[:3], do, False), ["dq", "dk", "dv"]),
    ("standard", ["--causal"], lambda x, do: softmax_attention_grads(*x[:3], do, True), ["dq", "dk", "dv"]),
    ("linformer", ["--e", "E", "--f", "F"], lambda x, do: linformer_grads(*x[:5], do), ["dq", "dk", "dv", "de", "df"]),
    # E = F: one matrix, whose gradient is both paths' sum.
    ("linformer", ["--e", "E"], lambda x, do: (lambda g: g[:3] + (g[3] + g[4],))(linformer_grads(*x[:4], x[3], do)),
     ["dq", "dk", "dv", "de"]),
    ("linformer", ["--e", "EH", "--f", "FH"], lambda x, do: linformer_grads(*x[:3], x[5], x[6], do), ["dq", "dk", "dv", "de", "df"]),
    ("linear", [], lambda x, do: linear_grads(*x[:3], do, False), ["dq", "dk", "dv"]),
    ("linear", ["--causal"], lambda x, do: linear_grads(*x[:3], do, True), ["dq", "dk", "dv"]),
    # flash recomputes P per tile from the row log-sum-exp: the same gradients as standard's.
    ("flash", [], lambda x, do: softmax_attention_grads(*x[:3], do, False), ["dq", "dk", "dv"]),
    ("flash", ["--causal", "--blocks", "16x32"], lambda x, do: softmax_attention_grads(*x[:3], do, True), ["dq", "dk", "dv"]),
]


def crosscheck_gradients(binary, tmp, paths, inputs, rng):
    """`eval --grad-out` against the NumPy gradients, each within 1e-4 of its largest magnitude."""
    q64 = inputs[0]
    b, h, n, d = q64.shape
    kp = inputs[3].shape[0]
    do = rng.standard_normal(q64.shape).astype(np.float32)
    eh = (rng.standard_normal((h, kp, n)) / np.sqrt(kp)).astype(np.float32)
    fh = (rng.standard_normal((h, kp, n)) / np.sqrt(kp)).astype(np.float32)
    for name, array in (("DO", do), ("EH", eh), ("FH", fh)):
        paths[name] = os.path.join(tmp, name + ".npy")
        np.save(paths[name], array)
    args64 = inputs + (eh.astype(np.float64), fh.astype(np.float64))
    failures = 0
    for mechanism, extra, grads, names in GRADIENT_CASES:
        flags = [paths.get(x, x) for x in extra]
        folder = os.path.join(tmp, "grads")
        subprocess.run([binary, "eval", "--mechanism", mechanism, "--q", paths["Q"], "--k", paths["K"], "--v", paths["V"],
                        "--out", os.path.join(tmp, "out.npy"), "--grad-out", paths["DO"], "--grads-dir", folder,
                        "--overwrite"] + flags, check=True)
        expected = grads(args64, do.astype(np.float64))
        written = sorted(f[:-4] for f in os.listdir(folder))
        worst = 0.0
        ok = written == sorted(names)
        for name, want in zip(names, expected):
            got = np.load(os.path.join(folder, name + ".npy")).astype(np.float64)
            error = float(np.abs(got - want).max() / np.abs(want).max()) if got.shape == want.shape else float("inf")
            worst = max(worst, error)
            os.remove(os.path.join(folder, name + ".npy"))
        ok = ok and worst <= 1e-4
        failures += not ok
        label = " ".join([mechanism] + [x for x in extra if x.startswith("--")] + (["(per head)"] if "EH" in extra else []))
        print(f"numpy-crosscheck: gradients of {label:<28} max |err| / max |grad| {worst:.3e}  {'ok' if ok else 'FAIL'}")
    return failures


def favor(x, w, query):
    """FAVOR+ features of x [..., n, d] for W [m, d]: queries shifted per row, keys by one shift per
    slice (their ||x'||^2 / 2 included; a query's cancels with its own row shift)."""
    u = x @ w.T
    if query:
        return np.exp(u - u.max(axis=-1, keepdims=True)) / np.sqrt(w.shape[0])
    u = u - (x * x).sum(axis=-1, keepdims=True) / (2 * np.sqrt(x.shape[-1]))
    return np.exp(u - u.max(axis=(-1, -2), keepdims=True)) / np.sqrt(w.shape[0])


def performer(q, k, v, w, causal, eps=1e-6):
    a = favor(q, w, True) @ np.swapaxes(favor(k, w, False), -1, -2)
    if causal:
        a = np.tril(a)
    return (a @ v) / (a.sum(axis=-1, keepdims=True) + eps)


def performer_grads(q, k, v, w, do, causal, eps=1e-6):
    """Linear attention's gradients over the features, then the features' chain rule with the shifts
    held constant: dq = (dphi_q * phi_q) W, dk = (dphi_k * phi_k) W - rowsum(dphi_k * phi_k) k / sqrt(d)."""
    fq, fk = favor(q, w, True), favor(k, w, False)
    a = fq @ np.swapaxes(fk, -1, -2)
    mask = np.tril(np.ones(a.shape[-2:])) if causal else np.ones(a.shape[-2:])
    a = a * mask
    num, den = a @ v, a.sum(axis=-1, keepdims=True) + eps
    dnum = do / den
    dden = -(do * num).sum(axis=-1, keepdims=True) / den ** 2
    da = (dnum @ np.swapaxes(v, -1, -2) + dden) * mask
    uq, uk = (da @ fk) * fq, (np.swapaxes(da, -1, -2) @ fq) * fk
    dk = uk @ w - uk.sum(axis=-1, keepdims=True) * k / np.sqrt(q.shape[-1])
    return uq @ w, dk, np.swapaxes(a, -1, -2) @ dnum


def lsh_counts(q, rotations, chunk, causal):
    """Per slice of q [b, h, n, d]: C [b, h, n, n], how many rounds put key j in query i's window (its
    sorted chunk and the one before, self only when nothing else is left), and the normalised keys."""
    b, h, n, d = q.shape
    norms = np.linalg.norm(q, axis=-1, keepdims=True)
    keys = np.where(norms > 0, q / np.where(norms > 0, norms, 1), 0)
    counts = np.zeros((b, h, n, n))
    c = min(chunk, n)
    for s in np.ndindex(b, h):
        for r in rotations:
            projected = keys[s] @ r
            buckets = np.argmax(np.concatenate([projected, -projected], axis=1), axis=1)
            order = np.lexsort((np.arange(n), buckets))
            chunks = [order[t:t + c] for t in range(0, n, c)]
            for ci, members in enumerate(chunks):
                window = set(members.tolist()) | (set(chunks[ci - 1].tolist()) if len(chunks) > 1 else set())
                for i in members:
                    seen = [j for j in window if j != i and (not causal or j <= i)] or [i]
                    for j in seen:
                        counts[s][i, j] += 1
    return counts, keys


def lsh_softmax(q, keys, v, counts):
    s = q @ np.swapaxes(keys, -1, -2) / np.sqrt(q.shape[-1])
    s = np.where(counts > 0, s, -np.inf)
    w = counts * np.exp(s - s.max(axis=-1, keepdims=True))
    p = w / w.sum(axis=-1, keepdims=True)
    return p @ v, p, s


def reformer(q, v, counts):
    norms = np.linalg.norm(q, axis=-1, keepdims=True)
    keys = np.where(norms > 0, q / np.where(norms > 0, norms, 1), 0)
    return lsh_softmax(q, keys, v, counts)[0]


def reformer_grads(q, v, counts, do):
    """dq, dk (zero: keys are the normalised queries), dv of the softmax over the multiset, through
    k = q / ||q|| into dq as well."""
    norms = np.linalg.norm(q, axis=-1, keepdims=True)
    keys = np.where(norms > 0, q / np.where(norms > 0, norms, 1), 0)
    _, p, _ = lsh_softmax(q, keys, v, counts)
    scale = 1 / np.sqrt(q.shape[-1])
    dp = do @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    dkeys = np.swapaxes(ds, -1, -2) @ q * scale
    dq = ds @ keys * scale
    dq += (dkeys - keys * (keys * dkeys).sum(axis=-1, keepdims=True)) / np.where(norms > 0, norms, np.inf)
    return dq, np.zeros_like(q), np.swapaxes(p, -1, -2) @ do


def check_random_mechanism_gradients():
    """Performer's and Reformer's NumPy gradients against central differences (float64): Performer
    with eps = 0, where its shifts cancel exactly; Reformer with its multiplicities held fixed."""
    rng = np.random.default_rng(7)
    b, h, n, d, m = 1, 2, 6, 4, 5
    q, k, v, do = (rng.standard_normal((b, h, n, d)) for _ in range(4))
    w = rng.standard_normal((m, d)) / d ** 0.25
    rotations = rng.standard_normal((2, d, 2))
    cases = []
    for causal in (False, True):
        counts, _ = lsh_counts(q, rotations, 2, causal)
        cases += [
            (f"performer{' --causal' if causal else ''}", lambda x, c=causal: performer(*x, w, c, eps=0),
             lambda x, c=causal: performer_grads(*x, w, do, c, eps=0), [q, k, v]),
            (f"reformer{' --causal' if causal else ''}", lambda x, c=counts: reformer(x[0], x[2], c),
             lambda x, c=counts: reformer_grads(x[0], x[2], c, do), [q, k, v]),
        ]
    return central_differences(cases, do)


RANDOM_CASES = [
    ("performer", ["--features", "48"]),
    ("performer", ["--features", "48", "--causal"]),
    ("reformer", ["--hash-rounds", "1", "--buckets", "8", "--chunk", "16"]),
    ("reformer", ["--hash-rounds", "4", "--buckets", "8", "--chunk", "16", "--causal"]),
]


def crosscheck_random_mechanisms(binary, tmp, paths, inputs, do):
    """Forward and gradients of the mechanisms with their own random projections, on those projections."""
    q64, k64, v64 = inputs[:3]
    failures = 0
    for mechanism, extra in RANDOM_CASES:
        causal = "--causal" in extra
        folder, out, random = os.path.join(tmp, "grads"), os.path.join(tmp, "out.npy"), os.path.join(tmp, "random.npy")
        subprocess.run([binary, "eval", "--mechanism", mechanism, "--q", paths["Q"], "--k", paths["K"], "--v", paths["V"],
                        "--out", out, "--grad-out", paths["DO"], "--grads-dir", folder, "--random-out", random,
                        "--overwrite"] + extra, check=True)
        projection = np.load(random).astype(np.float64)
        if mechanism == "performer":
            expected = performer(q64, k64, v64, projection, causal)
            grads = performer_grads(q64, k64, v64, projection, do, causal)
        else:
            chunk = int(extra[extra.index("--chunk") + 1])
            counts, _ = lsh_counts(q64, projection, chunk, causal)
            expected = reformer(q64, v64, counts)
            grads = reformer_grads(q64, v64, counts, do)
        got = np.load(out).astype(np.float64)
        error = float(np.abs(got - expected).max() / np.abs(expected).max())
        worst = 0.0
        for name, want in zip(["dq", "dk", "dv"], grads):
            have = np.load(os.path.join(folder, name + ".npy")).astype(np.float64)
            scale = max(np.abs(want).max(), 1e-30)
            worst = max(worst, float(np.abs(have - want).max() / scale) if np.abs(want).max() > 0 else float(np.abs(have).max()))
            os.remove(os.path.join(folder, name + ".npy"))
        ok = error <= 1e-5 and worst <= 1e-4
        failures += not ok
        label = " ".join([mechanism] + extra)
        print(f"numpy-crosscheck: {label:<52} forward {error:.1e}, gradients {worst:.1e}  {'ok' if ok else 'FAIL'}")
    return failures


if __name__ == "__main__":
    main()
