#!/usr/bin/env python3
"""PyTorch on the same grid as attnbench, interleaved with it: `make bench-peers`.

Usage: torch_peers.py [BINARY] [--preset default] [--rounds 3] [--output Results/peers.csv]
                      [--overwrite] [--n 512...4096] [--batch 1] [...any `attnbench run` axis flag]

Each round runs `attnbench run` over the grid (one cycle, into a temporary CSV), then PyTorch over
every forward point of that CSV; rounds alternate (attnbench, PyTorch, attnbench, PyTorch, ...), and
each side keeps its best median per point, because on a shared machine a median drifts by ~20%
over seconds while the best of a few spaced in time repeats. The output is in the suite's own
schema (the header is copied from attnbench's CSV): attnbench's rows as measured, and PyTorch's
with the mechanism prefixed `torch-`:

- `torch-standard`: softmax(Q Kᵀ/√d) V as matmul, softmax, matmul (causal: a -inf mask);
- `torch-flash`: `torch.nn.functional.scaled_dot_product_attention` (fused exact attention);
- `torch-linformer`: softmax(Q (E K)ᵀ/√d)(F V) in batched matmuls, E and F seeded N(0, 1/k) with
  the point's sharing;
- `torch-linear`: φ(Q)(φ(K)ᵀV) / (φ(Q)·Σφ(K) + 1e-6), φ = elu + 1 (non-causal; PyTorch has no
  causal linear attention of its own, so causal points are skipped rows);
- `torch-performer`: performer-pytorch's `FastAttention` (its FAVOR+ with m = the point's
  features, orthogonal features, its own ε = 1e-4 inside the features), when the package is installed;
- `torch-reformer`: reformer-pytorch's `LSHAttention` (shared QK as its input, the point's rounds,
  `bucket_size` = the point's chunk, so its bucket count is n / chunk where ours is the point's
  fixed count), when the package is installed.

PyTorch runs in inference mode with `torch.set_num_threads` set to the point's thread count, the
timing policy of the preset (warm-ups, minimum reps and seconds, maximum seconds), inputs made
outside the timed region. Time columns, `tokens_per_s`, `gflops` (attnbench's FLOP model for the
point, so time ratios and GF/s ratios agree), `ceiling_gflops` and `efficiency` (against the
OpenBLAS sgemm ceiling attnbench measured in the same round) and `peak_rss_bytes` (the process's
VmHWM over one call, after a reset) are filled; `peak_heap_bytes` and `model_bytes` stay empty
(PyTorch does not allocate through jemalloc, and the cost model is attnbench's).
Points whose PyTorch form would need more than the run's memory budget are skipped rows.

Without PyTorch (`pip install torch`) the script prints why and exits 0, writing nothing.
"""
import argparse
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time

AXES = ["mechanism", "n", "k", "batch", "tokens", "heads", "head-dim", "threads", "causal", "sharing",
        "hash-rounds", "buckets", "chunk", "features", "warmups", "min-reps", "min-time", "max-time", "seed",
        "memory-budget"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary", nargs="?", default=".build/release/attnbench")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default="Results/peers.csv")
    parser.add_argument("--overwrite", action="store_true")
    for axis in AXES:
        parser.add_argument("--" + axis, dest=axis.replace("-", "_"))
    args = parser.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        print("peers: skipped (PyTorch is not installed; `pip install torch` to compare with it)")
        return 0
    if args.rounds < 1:
        sys.exit("peers: --rounds must be at least 1")
    meta_path = os.path.splitext(args.output)[0] + ".meta.json"
    for path in (args.output, meta_path):
        if os.path.exists(path) and not args.overwrite:
            sys.exit(f"peers: {path} already exists; pass --overwrite to replace it")
    run_flags = [f"--{axis}={getattr(args, axis.replace('-', '_'))}" for axis in AXES
                 if getattr(args, axis.replace("-", "_")) is not None]

    header, own, peer, order, metas = None, {}, {}, [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            csv_path = os.path.join(tmp, f"round{r + 1}.csv")
            command = [args.binary, "run", "--preset", args.preset, "--cycles", "1", "--overwrite", "--quiet",
                       "--output", csv_path] + run_flags
            log(f"round {r + 1}/{args.rounds}: attnbench ({' '.join(command[1:])})")
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            with open(csv_path, newline="") as f:
                rows = list(csv.reader(f))
            header = rows[0]
            with open(os.path.splitext(csv_path)[0] + ".meta.json") as f:
                meta = json.load(f)
            metas.append(meta)
            for fields in rows[1:]:
                row = dict(zip(header, fields))
                key = tuple(fields[:key_count(header)])
                if key not in own:
                    order.append(key)
                keep_best(own, key, row)
            log(f"round {r + 1}/{args.rounds}: PyTorch")
            for fields in rows[1:]:
                row = dict(zip(header, fields))
                # PyTorch's forms are the attention cores' forward passes.
                if row["mode"] != "forward" or row.get("pass", "forward") != "forward" or row.get("scope", "core") != "core":
                    continue
                measured = measure_torch(row, meta)
                keep_best(peer, tuple(measured[c] for c in header[:key_count(header)]), measured)

    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(header)
    for key in order:
        writer.writerow([own[key][c] for c in header])
        torch_key = ("torch-" + key[0],) + key[1:]
        if torch_key in peer:
            writer.writerow([peer[torch_key].get(c, "") for c in header])
    write_atomically(args.output, lines.getvalue())
    write_atomically(meta_path, json.dumps(merged_meta(metas, args), indent=2, sort_keys=True) + "\n")
    log(f"wrote {args.output} and {meta_path}")
    return 0


def key_count(header):
    """The key columns come first and end before `status`."""
    return header.index("status")


def keep_best(table, key, row):
    """Keeps the row with the smaller median (an ok row beats a skipped one)."""
    old = table.get(key)
    if old is None or (row["status"] == "ok" and (old["status"] != "ok" or
                                                   float(row["time_median_ms"]) < float(old["time_median_ms"]))):
        table[key] = row


def log(message):
    print(f"peers: {message}", file=sys.stderr, flush=True)


# MARK: - PyTorch's forms

def measure_torch(own, meta):
    """PyTorch's row for attnbench's forward row `own` (same key but the mechanism)."""
    import torch
    header = list(own)
    row = {c: "" for c in header}
    for c in header[:key_count(header)] + ["seed"]:
        row[c] = own[c]
    row["mechanism"] = "torch-" + own["mechanism"]
    mechanism, causal = own["mechanism"], own["causal"] == "true"
    b, h, n, d = (int(own[c]) for c in ("batch", "heads", "n", "d"))
    k = int(own["k"]) if own["k"] else None
    threads, seed = int(own["threads"]), int(meta["seed"])
    label = f"{row['mechanism']}{' causal' if causal else ''}{f' k={k}' if k else ''} n={n} b={b} t={threads}"

    def skip(reason):
        row.update(status="skipped", reason=reason)
        log(f"  {label}: skipped ({reason})")
        return row

    if mechanism == "linear" and causal:
        return skip("PyTorch has no causal linear attention of its own")
    package = {"performer": "performer_pytorch", "reformer": "reformer_pytorch"}.get(mechanism)
    if package is not None:
        try:
            __import__(package)
        except ImportError:
            return skip(f"{package.replace('_', '-')} is not installed (pip install {package.replace('_', '-')})")
    if k is not None and k >= n:
        return skip(own["reason"] or "k >= n")
    floats = b * h * (n * n * (2 if mechanism == "standard" else 0) + 4 * n * d
                      + ((2 * n * k + 2 * k * d) if mechanism == "linformer" else 0)
                      + ((2 * n * d + d * d + d) if mechanism == "linear" else 0)
                      + ((2 * n * int(own["features"] or 256) + 4 * n * d) if mechanism == "performer" else 0)
                      + (16 * int(own["hash_rounds"] or 1) * n * (int(own["chunk"] or 32) + d)
                         if mechanism == "reformer" else 0))
    if causal and mechanism == "standard":
        floats += n * n // 4  # the boolean mask
    budget = int(meta["memoryBudgetBytes"])
    if 4 * floats > budget:
        return skip(f"memory: PyTorch's form needs {4 * floats / 2**30:.1f} GiB > budget {budget / 2**30:.1f} GiB")

    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(seed)
    q, kk, v = (torch.randn(b, h, n, d, generator=generator) for _ in range(3))
    call = form(mechanism, causal, q, kk, v, k, own.get("sharing", ""), h, n, generator, own)
    policy = meta["timing"]
    with torch.inference_mode():
        reset_peak_rss()
        call()
        row["peak_rss_bytes"] = str(peak_rss())
        samples = time_policy(call, policy)
    fill_timing(row, samples, own, b * n)
    row.update(status="ok", reason="", seed=str(seed))
    log(f"  {label}: {float(row['time_median_ms']):.2f} ms")
    return row


def form(mechanism, causal, q, k, v, kp, sharing, h, n, generator, own):
    """The call that computes `mechanism` the way PyTorch users write it (see the module's doc)."""
    import torch
    import torch.nn.functional as F
    scale = 1 / math.sqrt(q.shape[-1])
    if mechanism == "flash":
        return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    if mechanism == "standard":
        mask = torch.ones(n, n, dtype=torch.bool).triu(1) if causal else None

        def standard():
            s = q @ k.transpose(-2, -1) * scale  # [b, h, n, n]
            if mask is not None:
                s = s.masked_fill(mask, float("-inf"))
            return torch.softmax(s, dim=-1) @ v
        return standard
    if mechanism == "linformer":
        count = h if sharing == "none" else 1
        e = torch.randn(count, kp, n, generator=generator) / math.sqrt(kp)
        f = e if sharing == "key-value" else torch.randn(count, kp, n, generator=generator) / math.sqrt(kp)
        return lambda: torch.softmax(q @ (e @ k).transpose(-2, -1) * scale, dim=-1) @ (f @ v)  # [k, n]·[n, d] → [k, d]
    if mechanism == "linear":
        def linear():
            fq, fk = F.elu(q) + 1, F.elu(k) + 1
            state = fk.transpose(-2, -1) @ v  # [d, n]·[n, d] → [d, d]
            denominator = fq @ fk.sum(dim=-2).unsqueeze(-1) + 1e-6  # [n, d]·[d, 1] → [n, 1]
            return (fq @ state) / denominator
        return linear
    if mechanism == "performer":
        from performer_pytorch import FastAttention
        attention = FastAttention(dim_heads=q.shape[-1], nb_features=int(own["features"] or 256), causal=causal)
        return lambda: attention(q, k, v)
    if mechanism == "reformer":
        from reformer_pytorch import LSHAttention
        b, heads, length, d = q.shape
        chunk = int(own["chunk"] or 32)
        attention = LSHAttention(bucket_size=chunk, n_hashes=int(own["hash_rounds"] or 1), causal=causal)
        qk, values = q.reshape(b * heads, length, d), v.reshape(b * heads, length, d)  # heads folded into batch
        return lambda: attention(qk, values)[0]
    raise ValueError(f"no PyTorch form for {mechanism}")


# MARK: - Timing and memory, as attnbench measures them

def time_policy(call, policy):
    """`TimingPolicy.measure`: warm-ups (while under half of max-time), then timed reps until both
    min-reps and min-time are reached, stopping at max-time; seconds per call."""
    start = time.perf_counter()
    for _ in range(policy["warmups"]):
        if time.perf_counter() - start >= policy["maxSeconds"] / 2:
            break
        call()
    timed_start, samples = time.perf_counter(), []
    while True:
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
        if len(samples) >= policy["minReps"] and time.perf_counter() - timed_start >= policy["minSeconds"]:
            break
        if time.perf_counter() - start >= policy["maxSeconds"]:
            break
    return samples


def median_rank(m, alpha=0.05):
    """`SampleStatistics.medianRank`: the largest j with P(Bin(m, 1/2) <= j - 1) <= alpha/2, or None."""
    cumulative, j = 0.0, 0
    while j < m:
        p = math.exp(math.lgamma(m + 1) - math.lgamma(j + 1) - math.lgamma(m - j + 1) - m * math.log(2))
        if cumulative + p > alpha / 2:
            break
        cumulative += p
        j += 1
    return j if j >= 1 else None


def fill_timing(row, samples, own, tokens):
    s = sorted(samples)
    m = len(s)
    median = s[m // 2] if m % 2 else (s[m // 2 - 1] + s[m // 2]) / 2
    mean = sum(s) / m
    stddev = math.sqrt(sum((x - mean) ** 2 for x in s) / (m - 1)) if m > 1 else 0.0
    j = median_rank(m)
    low, high = (s[j - 1], s[m - j]) if j else (s[0], s[-1])
    ms = lambda x: f"{x * 1e3:.6f}"
    row.update(reps=str(m), time_median_ms=ms(median), time_min_ms=ms(s[0]), time_mean_ms=ms(mean),
               time_stddev_ms=ms(stddev), time_ci95_low_ms=ms(low), time_ci95_high_ms=ms(high))
    row["noisy"] = "true" if (j is None or (high - low) / median > 0.10) else "false"
    row["tokens_per_s"] = f"{tokens / median:.6g}"
    if own.get("model_gflop"):
        gflop = float(own["model_gflop"])
        row["model_gflop"] = own["model_gflop"]
        row["gflops"] = f"{gflop / median:.3f}"
        if own.get("ceiling_gflops"):
            row["ceiling_gflops"] = own["ceiling_gflops"]
            row["efficiency"] = f"{gflop / median / float(own['ceiling_gflops']):.4f}"


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
    return ""


# MARK: - Files

def merged_meta(metas, args):
    """Round 1's sidecar, with every round's sessions and what PyTorch was."""
    import torch
    meta = dict(metas[0])
    meta["preset"] = f"peers ({metas[0]['preset']}, {args.rounds} interleaved rounds)"
    meta["sessions"] = [s for m in metas for s in m["sessions"]]
    meta["peers"] = {
        "torch": torch.__version__,
        "torchConfig": torch.__config__.parallel_info().strip(),
        "rounds": args.rounds,
        "command": " ".join(sys.argv),
    }
    return meta


def write_atomically(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".peers-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
