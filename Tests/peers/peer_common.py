"""What every peer module shares: the point a row describes, attnbench's timing policy, the
NumPy references the peers are checked against, and the skip.

A peer module (`peer_torch.py`, `peer_onnxruntime.py`, ...) exposes:

- `FRAMEWORK`: its `framework` field in the CSV (`pytorch`, `onnxruntime`, ...);
- `FORMS`: the (mechanism, causal) forms it has, each with what it computes;
- `missing()`: None when its packages import, else the one-line reason it is skipped;
- `versions()`: what was measured, for the sidecar;
- `evaluate(mechanism, causal, q, k, v, e, f, point)`: its output on NumPy inputs, as NumPy [b, h, n, d]
  (the agreement checks);
- `time(point, policy)`: (seconds per call, peak RSS bytes over one call) at a point, inputs made
  outside the timed region; raises `Skip` when the point is out of its reach.

Dimensions: b batch, h heads, n length, d head dim, k Linformer's projected length.
"""
import math
import sys
import time as clock

import numpy as np

#: Linear attention's ε in the denominator: attnbench's and fast-transformers' value.
LINEAR_EPS = 1e-6
#: float32's unit roundoff, 2⁻²⁴.
UNIT_ROUNDOFF = 2.0 ** -24
#: How many unit roundoffs per accumulated term the agreement allows: a dot product of d terms and a
#: weighted sum of n rows each lose up to about one roundoff per term, in either implementation, so
#: two float32 implementations differ by at most about 2·(n + d)·u·scale; twice that again for
#: different orders of summation (blocked GEMMs, tiled softmax) and exp approximations.
ROUNDOFFS_PER_TERM = 4


class Skip(Exception):
    """A point a peer cannot time (no such form, over the memory budget): its row is skipped with the reason."""


class Point:
    """The key of one of attnbench's forward rows, as the peers read it."""

    def __init__(self, row, seed, budget):
        self.mechanism, self.causal = row["mechanism"], row["causal"] == "true"
        self.b, self.h, self.n, self.d = (int(row[c]) for c in ("batch", "heads", "n", "d"))
        self.k = int(row["k"]) if row.get("k") else None
        self.sharing = row.get("sharing", "")
        self.threads = int(row["threads"])
        self.features = int(row["features"]) if row.get("features") else None
        self.hash_rounds = int(row["hash_rounds"]) if row.get("hash_rounds") else None
        self.chunk = int(row["chunk"]) if row.get("chunk") else None
        self.seed, self.budget = seed, budget

    def label(self, framework):
        causal = " causal" if self.causal else ""
        extra = "".join(f" {name}={value}" for name, value in
                        (("k", self.k), ("rounds", self.hash_rounds), ("m", self.features)) if value)
        return f"{framework} {self.mechanism}{causal}{extra} n={self.n} b={self.b} t={self.threads}"

    def to_json(self):
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data):
        p = cls.__new__(cls)
        p.__dict__.update(data)
        return p


def inputs(point):
    """Seeded Q, K, V [b, h, n, d] and Linformer's E, F ([count, k, n], entries N(0, 1/k): the point's
    sharing gives count = h for `none`, else 1, and F = E for `key-value`), float32 NumPy."""
    rng = np.random.default_rng(point.seed)
    shape = (point.b, point.h, point.n, point.d)
    q, k, v = (rng.standard_normal(shape, dtype=np.float32) for _ in range(3))
    e = f = None
    if point.mechanism == "linformer" and point.k:
        count = point.h if point.sharing == "none" else 1
        draw = lambda: (rng.standard_normal((count, point.k, point.n), dtype=np.float32)
                        / np.float32(math.sqrt(point.k)))
        e = draw()
        f = e if point.sharing == "key-value" else draw()
    return q, k, v, e, f


def intermediates(point):
    """The floats a peer's form holds beyond Q, K, V and the output (the scores of the materialised
    form and its causal mask, Linformer's projections, linear attention's φ and state)."""
    n, d, k = point.n, point.d, point.k or 0
    per_head = {"standard": 2 * n * n + (n * n // 4 if point.causal else 0), "flash": 0,
                "linformer": 2 * n * k + 2 * k * d, "linear": 2 * n * d + d * d + d}
    return point.b * point.h * per_head.get(point.mechanism, 0)


def check_budget(point, extra_floats=0):
    """Raises `Skip` when Q, K, V, the output and a form's `extra_floats` intermediates pass the
    run's memory budget (4 bytes a float)."""
    floats = point.b * point.h * 4 * point.n * point.d + extra_floats
    if 4 * floats > point.budget:
        raise Skip(f"memory: the form needs {4 * floats / 2**30:.1f} GiB > budget {point.budget / 2**30:.1f} GiB")


# MARK: - NumPy references (float64), as Tests/numpy_crosscheck.py writes them

def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)  # the max subtraction: exp never overflows
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def reference(mechanism, causal, q, k, v, e=None, f=None):
    """softmax(Q Kᵀ/√d) V (standard and flash; causal: j ≤ i), softmax(Q (E K)ᵀ/√d)(F V) (Linformer),
    φ(Q)(φ(K)ᵀV)/(φ(Q)·Σφ(K) + ε) with φ = elu + 1 (linear; causal: the sums over j ≤ i), in float64."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    scale = 1 / math.sqrt(q.shape[-1])
    if mechanism in ("standard", "flash"):
        s = q @ np.swapaxes(k, -1, -2) * scale  # [b, h, n, d]·[b, h, d, n] → [b, h, n, n]
        if causal:
            n = q.shape[-2]
            s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
        return softmax(s) @ v
    if mechanism == "linformer":
        kp, vp = e.astype(np.float64) @ k, f.astype(np.float64) @ v  # [k, n]·[n, d] → [k, d]
        return softmax(q @ np.swapaxes(kp, -1, -2) * scale) @ vp
    if mechanism == "linear":
        phi = lambda x: np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))
        a = phi(q) @ np.swapaxes(phi(k), -1, -2)  # the quadratic form [b, h, n, n]
        if causal:
            a = np.tril(a)
        return (a @ v) / (a.sum(axis=-1, keepdims=True) + LINEAR_EPS)
    raise ValueError(f"no NumPy reference for {mechanism}")


def agreement(got, expected, label):
    """max |got − expected| against ROUNDOFFS_PER_TERM·(n + d)·u·max|expected|; printed either way,
    and SystemExit (the run fails, loudly) when the bound is passed."""
    n, d = expected.shape[-2], expected.shape[-1]
    scale = float(np.abs(expected).max()) or 1.0
    got = np.asarray(got, dtype=np.float64)
    error = float(np.abs(got - expected).max()) if got.shape == expected.shape else math.inf
    bound = ROUNDOFFS_PER_TERM * (n + d) * UNIT_ROUNDOFF * scale
    ok = error <= bound
    log(f"  {label:<40} max |err| {error:.2e} (bound {bound:.2e})  {'ok' if ok else 'FAIL'}")
    if not ok:
        raise SystemExit(f"peers: {label} disagrees (shape {got.shape} vs {expected.shape}, "
                         f"max |err| {error:.3e} > {bound:.3e})")


def tiny_inputs(seed=7, b=1, h=2, n=32, d=16, k=8):
    """The agreement checks' inputs: Q, K, V [b, h, n, d] and E, F [1, k, n] (entries N(0, 1/k))."""
    rng = np.random.default_rng(seed)
    q, k_, v = (rng.standard_normal((b, h, n, d)).astype(np.float32) for _ in range(3))
    e, f = ((rng.standard_normal((1, k, n)) / math.sqrt(k)).astype(np.float32) for _ in range(2))
    return q, k_, v, e, f


def self_check(module):
    """Every NumPy-checkable form of `module` on `tiny_inputs`, against `reference`: before timing."""
    q, k, v, e, f = tiny_inputs()
    for mechanism, causal in sorted(module.FORMS):
        if mechanism not in ("standard", "flash", "linformer", "linear"):
            continue
        got = module.evaluate(mechanism, causal, q, k, v, e, f, None)
        expected = reference(mechanism, causal, q, k, v, e, f)
        agreement(got, expected, f"{module.FRAMEWORK} {mechanism}{' causal' if causal else ''} vs NumPy")


# MARK: - Timing and memory, as attnbench measures them

def time_policy(call, policy):
    """`TimingPolicy.measure`: warm-ups (while under half of max-time), then timed reps until both
    min-reps and min-time are reached, stopping at max-time; seconds per call."""
    start = clock.perf_counter()
    for _ in range(policy["warmups"]):
        if clock.perf_counter() - start >= policy["maxSeconds"] / 2:
            break
        call()
    timed_start, samples = clock.perf_counter(), []
    while True:
        t = clock.perf_counter()
        call()
        samples.append(clock.perf_counter() - t)
        if len(samples) >= policy["minReps"] and clock.perf_counter() - timed_start >= policy["minSeconds"]:
            break
        if clock.perf_counter() - start >= policy["maxSeconds"]:
            break
    return samples


def measure(call, policy):
    """One call after a VmHWM reset (its peak RSS), then `time_policy`: (samples, peak RSS bytes)."""
    reset_peak_rss()
    call()
    rss = peak_rss()
    return time_policy(call, policy), rss


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def log(message):
    print(f"peers: {message}", file=sys.stderr, flush=True)
