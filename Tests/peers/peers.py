#!/usr/bin/env python3
"""attnbench and every installed peer on the same grid, interleaved in one session: `make bench-peers`.

Usage: peers.py [BINARY] [--preset default] [--rounds 3] [--output Results/peers.csv] [--overwrite]
                [--peers pytorch,onnxruntime,openvino,jax,fast-transformers]
                [--n 512...4096] [--batch 1] [...any `attnbench run` axis flag]

The peers, one module each (what each form computes is in its module's docstring):

- PyTorch (`peer_torch.py`): standard (matmul-softmax-matmul), flash (`scaled_dot_product_attention`),
  linformer, linear, performer (performer-pytorch), reformer (reformer-pytorch);
- ONNX Runtime (`peer_onnxruntime.py`): flash as the `com.microsoft` MultiHeadAttention op;
- OpenVINO (`peer_openvino.py`): flash as opset-13 ScaledDotProductAttention at f32;
- JAX (`peer_jax.py`): standard, flash (`jax.nn.dot_product_attention`), linformer, linear, jitted XLA
  (in one worker process per thread count, pinned to that many cores: the only thread control XLA has);
- fast-transformers (`peer_fast_transformers.py`): causal linear, its CPU `causal_dot_product` kernel.

A peer whose packages do not import is skipped with a one-line message; with none installed the
script exits 0 and writes nothing. Before timing, every peer's exact and Linformer/linear forms are
checked on a tiny input against a NumPy reference and against `attnbench eval` on the same
arrays (max |err| within 4·(n + d)·2⁻²⁴·scale), and the run fails loudly when one disagrees.

Each round runs `attnbench run` over the grid (one cycle, into a temporary CSV), then each peer in
turn over every forward core point of that CSV; rounds alternate (attnbench, PyTorch, ONNX Runtime,
..., attnbench, ...), and each side keeps its best median per point, because on a shared machine a
median drifts by ~20% over seconds while the best of a few spaced in time repeats. The output is in
the suite's own schema (the header is copied from attnbench's CSV): attnbench's rows as measured
(`framework` = `attnbench`), each followed by its peers' rows at the same key (`framework` = the
peer's, `mechanism` bare). Peers use the preset's timing policy (warm-ups, minimum reps and seconds,
maximum seconds) with inputs made outside the timed region. Time columns, `tokens_per_s`, `gflops`
(attnbench's FLOP model for the point, so time ratios and GF/s ratios agree), `ceiling_gflops` and
`efficiency` (against the OpenBLAS sgemm ceiling attnbench measured in the same round) and
`peak_rss_bytes` (the measuring process's VmHWM over one call, after a reset) are filled;
`peak_heap_bytes` and `model_bytes` stay empty (peers do not allocate through jemalloc, and the cost
model is attnbench's). A peer has rows only for the mechanisms it has; a point of one whose variant
it lacks (PyTorch's causal linear) or whose form would pass the run's memory budget is a skipped
row with the reason.
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

import numpy as np

import peer_common as common
import peer_fast_transformers
import peer_jax
import peer_onnxruntime
import peer_openvino
import peer_torch

#: Every peer, in the order rounds run them and rows are written.
PEERS = [peer_torch, peer_onnxruntime, peer_openvino, peer_jax, peer_fast_transformers]
AXES = ["mechanism", "n", "k", "batch", "tokens", "heads", "head-dim", "threads", "causal", "sharing",
        "hash-rounds", "buckets", "chunk", "features", "warmups", "min-reps", "min-time", "max-time", "seed",
        "memory-budget"]
log = common.log


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary", nargs="?", default=".build/release/attnbench")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default="Results/peers.csv")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--peers", default=",".join(p.FRAMEWORK for p in PEERS),
                        help="the peers to measure, comma-separated (default: every installed one)")
    for axis in AXES:
        parser.add_argument("--" + axis, dest=axis.replace("-", "_"))
    args = parser.parse_args()
    if args.rounds < 1:
        usage("--rounds must be at least 1")
    wanted = [name for name in args.peers.split(",") if name]
    unknown = sorted(set(wanted) - {p.FRAMEWORK for p in PEERS})
    if unknown:
        usage(f"unknown peer {', '.join(unknown)} (known: {', '.join(p.FRAMEWORK for p in PEERS)})")
    peers = []
    for peer in PEERS:
        if peer.FRAMEWORK not in wanted:
            continue
        reason = peer.missing()
        if reason:
            log(f"{peer.FRAMEWORK}: skipped ({reason})")
        else:
            peers.append(peer)
    if not peers:
        print("peers: skipped (no peer is installed; `pip install torch onnxruntime onnx openvino jax` to compare with them)")
        return 0
    meta_path = os.path.splitext(args.output)[0] + ".meta.json"
    for path in (args.output, meta_path):
        if os.path.exists(path) and not args.overwrite:
            usage(f"{path} already exists; pass --overwrite to replace it")
    run_flags = [f"--{axis}={getattr(args, axis.replace('-', '_'))}" for axis in AXES
                 if getattr(args, axis.replace("-", "_")) is not None]
    try:
        check_agreement(args.binary, peers)
        header, own, measured, order, metas = interleave(args, peers, run_flags)
        versions = {peer.FRAMEWORK: peer.versions() for peer in peers}
    finally:
        for peer in peers:
            getattr(peer, "close", lambda: None)()
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(header)
    framework = header.index("framework")
    for key in order:
        writer.writerow([own[key][c] for c in header])
        for peer in peers:
            peer_key = key[:framework] + (peer.FRAMEWORK,) + key[framework + 1:]
            if peer_key in measured:
                writer.writerow([measured[peer_key].get(c, "") for c in header])
    write_atomically(args.output, lines.getvalue())
    write_atomically(meta_path, json.dumps(merged_meta(metas, args, peers, versions), indent=2, sort_keys=True) + "\n")
    log(f"wrote {args.output} and {meta_path}")
    return 0


def usage(message):
    print(f"peers: {message}", file=sys.stderr)
    sys.exit(64)


def interleave(args, peers, run_flags):
    """The rounds: attnbench over the grid, then each peer over its forward core points; each
    side's best row per key."""
    header, own, measured, order, metas = None, {}, {}, [], []
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
            if "framework" not in header:
                sys.exit(f"peers: {args.binary} writes no framework column; rebuild it (make build)")
            with open(os.path.splitext(csv_path)[0] + ".meta.json") as f:
                meta = json.load(f)
            metas.append(meta)
            for fields in rows[1:]:
                key = tuple(fields[:key_count(header)])
                if key not in own:
                    order.append(key)
                keep_best(own, key, dict(zip(header, fields)))
            for peer in peers:
                log(f"round {r + 1}/{args.rounds}: {peer.FRAMEWORK}")
                for fields in rows[1:]:
                    row = dict(zip(header, fields))
                    # The peers' forms are the attention cores' forward passes.
                    if row["mode"] != "forward" or row.get("pass", "forward") != "forward" or row.get("scope", "core") != "core":
                        continue
                    # A peer writes a row at every point of a mechanism it has (skipped where it lacks
                    # the variant, say causal), none at the others.
                    if all(mechanism != row["mechanism"] for mechanism, _ in peer.FORMS):
                        continue
                    result = measure(peer, row, meta)
                    keep_best(measured, tuple(result[c] for c in header[:key_count(header)]), result)
    return header, own, measured, order, metas


def measure(peer, own, meta):
    """The peer's row for attnbench's forward row `own` (the same key but the framework)."""
    header = list(own)
    row = {c: "" for c in header}
    for c in header[:key_count(header)] + ["seed"]:
        row[c] = own[c]
    row["framework"] = peer.FRAMEWORK
    point = common.Point(own, int(meta["seed"]), int(meta["memoryBudgetBytes"]))
    label = point.label(peer.FRAMEWORK)
    try:
        if point.k is not None and point.k >= point.n:
            raise common.Skip(own["reason"] or "k >= n")
        samples, rss = peer.time(point, meta["timing"])
    except common.Skip as skip:
        row.update(status="skipped", reason=str(skip))
        log(f"  {label}: skipped ({skip})")
        return row
    row["peak_rss_bytes"] = "" if rss is None else str(rss)
    fill_timing(row, samples, own, point.b * point.n)
    row.update(status="ok", reason="", seed=str(point.seed))
    log(f"  {label}: {float(row['time_median_ms']):.2f} ms")
    return row


def key_count(header):
    """The key columns come first and end before `status`."""
    return header.index("status")


def keep_best(table, key, row):
    """Keeps the row with the smaller median (an ok row beats a skipped one)."""
    old = table.get(key)
    if old is None or (row["status"] == "ok" and (old["status"] != "ok" or
                                                   float(row["time_median_ms"]) < float(old["time_median_ms"]))):
        table[key] = row


# MARK: - Agreement, before anything is timed

def check_agreement(binary, peers):
    """Each peer's NumPy-checkable forms on tiny inputs: against the NumPy reference (in float64),
    then against `attnbench eval` on the same .npy files (Linformer with E and F given), the
    suite's own output for the same formula. Raises SystemExit on the first disagreement."""
    log("agreement on b=1 h=2 n=32 d=16 (Linformer k=8), before timing:")
    q, k, v, e, f = common.tiny_inputs()
    ours = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: os.path.join(tmp, name + ".npy") for name in ("q", "k", "v", "e", "f", "out")}
        for name, array in (("q", q), ("k", k), ("v", v), ("e", e[0]), ("f", f[0])):
            np.save(paths[name], array)
        for peer in peers:
            common.self_check(peer)
            for mechanism, causal in sorted(peer.FORMS):
                if mechanism not in ("standard", "flash", "linformer", "linear"):
                    continue
                if (mechanism, causal) not in ours:
                    extra = (["--causal"] if causal else []) + (
                        ["--e", paths["e"], "--f", paths["f"]] if mechanism == "linformer" else [])
                    subprocess.run([binary, "eval", "--mechanism", mechanism, "--q", paths["q"], "--k", paths["k"],
                                    "--v", paths["v"], "--out", paths["out"], "--overwrite"] + extra,
                                   check=True, stdout=subprocess.DEVNULL)
                    ours[mechanism, causal] = np.load(paths["out"]).astype(np.float64)
                got = peer.evaluate(mechanism, causal, q, k, v, e, f, None)
                common.agreement(got, ours[mechanism, causal],
                                 f"{peer.FRAMEWORK} {mechanism}{' causal' if causal else ''} vs attnbench")


# MARK: - Rows and files

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


def merged_meta(metas, args, peers, versions):
    """Round 1's sidecar, with every round's sessions and what each peer was."""
    meta = dict(metas[0])
    meta["preset"] = f"peers ({metas[0]['preset']}, {args.rounds} interleaved rounds)"
    meta["sessions"] = [s for m in metas for s in m["sessions"]]
    meta["peers"] = {
        "frameworks": versions,
        "skipped": {p.FRAMEWORK: p.missing() for p in PEERS if p not in peers and p.missing()},
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
