"""JAX on the CPU (XLA, each form `jax.jit`-compiled once outside the timed region, every timed call
ended by `block_until_ready()`):

- `standard`: softmax(Q Kᵀ/√d) V as matmul, `jax.nn.softmax`, matmul (causal: a −inf mask over
  j > i); the n×n scores materialised, O(n²d);
- `flash`: `jax.nn.dot_product_attention` (causal via `is_causal`) on [b, n, h, d] inputs (laid out
  outside the timed region). On the CPU it is XLA's own lowering of the same formula
  (`implementation=None` picks `'xla'`; the fused cuDNN kernel is GPU-only), so it is JAX's fused
  exact API, not a tiled kernel;
- `linformer`: softmax(Q (E K)ᵀ/√d)(F V) in batched matmuls, E and F as PyTorch's; O(nkd);
- `linear`: φ(Q)(φ(K)ᵀV) / (φ(Q)·Σφ(K) + 1e-6), φ = elu + 1, non-causal; O(nd²).

Threads: XLA's CPU client sizes its intra-op (Eigen) thread pool when jax is imported, from the CPUs
the process may run on, and has no per-call setting. So JAX runs in one worker process per thread
count (`peer_jax.py --worker T`, spoken to in JSON lines over its stdin and stdout), which pins
itself to T cores (`os.sched_setaffinity`, cores 0..T−1) before importing jax, and for T = 1 also sets
`XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`. Pinning is the one
control that works, and it is stronger than the other peers' (they choose their cores freely): on a
machine shared with other work the pinned cores may be busy. A T above the machine's cores is refused.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np

import peer_common as common

FRAMEWORK = "jax"
FORMS = {
    ("standard", False): "matmul-softmax-matmul", ("standard", True): "matmul-softmax-matmul, −inf mask",
    ("flash", False): "jax.nn.dot_product_attention", ("flash", True): "jax.nn.dot_product_attention(is_causal)",
    ("linformer", False): "softmax(Q (E K)ᵀ/√d)(F V)", ("linear", False): "φ(Q)(φ(K)ᵀV)/(φ(Q)·Σφ(K) + ε)",
}
#: XLA's flags for one thread: no multi-threaded Eigen, one intra-op thread.
ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def missing():
    try:
        import importlib.util
        if importlib.util.find_spec("jax") is None or importlib.util.find_spec("jaxlib") is None:
            return "JAX is not installed (pip install jax jaxlib)"
    except ImportError as error:
        return f"JAX is not installed ({error})"
    return None


def versions():
    return ask(1, {"op": "versions"})["versions"]


# MARK: - The parent's side: one worker per thread count

WORKERS = {}


def worker(threads):
    if threads not in WORKERS:
        if threads > (os.cpu_count() or 1):
            raise common.Skip(f"JAX's threads are set by pinning to cores; {threads} > {os.cpu_count()} cores")
        WORKERS[threads] = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", str(threads)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return WORKERS[threads]


def ask(threads, request):
    process = worker(threads)
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"peers: the JAX worker for {threads} thread(s) exited (exit code {process.poll()})")
    reply = json.loads(line)
    if "skip" in reply:
        raise common.Skip(reply["skip"])
    if "error" in reply:
        raise SystemExit(f"peers: JAX: {reply['error']}")
    return reply


def close():
    for process in WORKERS.values():
        process.stdin.close()
        process.wait()
    WORKERS.clear()


def evaluate(mechanism, causal, q, k, v, e, f, point):
    arrays = [None if x is None else x.tolist() for x in (q, k, v, e, f)]
    reply = ask(1, {"op": "evaluate", "mechanism": mechanism, "causal": causal, "arrays": arrays})
    return np.array(reply["out"], dtype=np.float32)


def time(point, policy):
    if (point.mechanism, point.causal) not in FORMS:
        raise common.Skip(f"no JAX form for {point.mechanism}{' causal' if point.causal else ''}")
    common.check_budget(point, common.intermediates(point))
    reply = ask(point.threads, {"op": "time", "point": point.to_json(), "policy": policy})
    return reply["samples"], reply["rss"]


# MARK: - The worker's side

def form(mechanism, causal, q, k, v, e, f):
    """The jitted call computing `mechanism` on JAX arrays (`flash` takes [b, n, h, d])."""
    import jax
    import jax.numpy as jnp
    scale = 1 / math.sqrt(q.shape[-1])
    if mechanism == "flash":
        call = jax.jit(lambda q, k, v: jax.nn.dot_product_attention(q, k, v, is_causal=causal))
        return lambda: call(q, k, v).block_until_ready()
    if mechanism == "standard":
        n = q.shape[-2]
        mask = jnp.tril(jnp.ones((n, n), dtype=bool)) if causal else None

        def standard(q, k, v):
            s = q @ jnp.swapaxes(k, -1, -2) * scale  # [b, h, n, d]·[b, h, d, n] → [b, h, n, n]
            if mask is not None:
                s = jnp.where(mask, s, -jnp.inf)
            return jax.nn.softmax(s, axis=-1) @ v
        call = jax.jit(standard)
        return lambda: call(q, k, v).block_until_ready()
    if mechanism == "linformer":
        call = jax.jit(lambda q, k, v, e, f: jax.nn.softmax(q @ jnp.swapaxes(e @ k, -1, -2) * scale, axis=-1) @ (f @ v))
        return lambda: call(q, k, v, e, f).block_until_ready()  # [k, n]·[n, d] → [k, d]
    if mechanism == "linear":
        def linear(q, k, v):
            fq, fk = jax.nn.elu(q) + 1, jax.nn.elu(k) + 1
            state = jnp.swapaxes(fk, -1, -2) @ v  # [d, n]·[n, d] → [d, d]
            denominator = fq @ fk.sum(axis=-2)[..., None] + common.LINEAR_EPS  # [n, d]·[d, 1] → [n, 1]
            return (fq @ state) / denominator
        call = jax.jit(linear)
        return lambda: call(q, k, v).block_until_ready()
    raise ValueError(f"no JAX form for {mechanism}")


def prepared(mechanism, causal, q, k, v, e, f):
    """Device arrays (the flash form's laid out [b, n, h, d]) and the call."""
    import jax.numpy as jnp
    if mechanism == "flash":
        q, k, v = (x.transpose(0, 2, 1, 3) for x in (q, k, v))
    arrays = [None if x is None else jnp.asarray(np.ascontiguousarray(x)) for x in (q, k, v, e, f)]
    return form(mechanism, causal, *arrays)


def serve(threads):
    os.sched_setaffinity(0, set(range(threads)))
    if threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + ONE_THREAD_FLAGS).strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jaxlib
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "versions":
                reply = {"versions": {"jax": jax.__version__, "jaxlib": jaxlib.__version__,
                                      "jaxThreads": f"pinned to {threads} core(s)" +
                                      (f", XLA_FLAGS={ONE_THREAD_FLAGS}" if threads == 1 else "")}}
            elif request["op"] == "evaluate":
                q, k, v, e, f = (None if x is None else np.array(x, dtype=np.float32) for x in request["arrays"])
                mechanism, causal = request["mechanism"], request["causal"]
                out = np.asarray(prepared(mechanism, causal, q, k, v, e, f)())  # block_until_ready returns it
                if mechanism == "flash":
                    out = out.transpose(0, 2, 1, 3)  # [b, n, h, d] → [b, h, n, d]
                reply = {"out": out.tolist()}
            else:
                point = common.Point.from_json(request["point"])
                call = prepared(point.mechanism, point.causal, *common.inputs(point))
                samples, rss = common.measure(call, request["policy"])
                reply = {"samples": samples, "rss": rss}
        except common.Skip as skip:
            reply = {"skip": str(skip)}
        except Exception as error:  # one line back to the parent, which fails loudly
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        serve(int(sys.argv[2]))
    else:
        sys.exit("usage: peer_jax.py --worker THREADS (started by peers.py)")
