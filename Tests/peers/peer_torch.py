"""PyTorch on the CPU (inference mode, `torch.set_num_threads` = the point's threads):

- `standard`: softmax(Q Kᵀ/√d) V as matmul, softmax, matmul (causal: a −inf mask over j > i);
  O(n²d) time, the n×n scores materialised;
- `flash`: `torch.nn.functional.scaled_dot_product_attention` (its fused exact attention; causal via
  `is_causal`), no n×n matrix;
- `linformer`: softmax(Q (E K)ᵀ/√d)(F V) in batched matmuls, E and F [count, k, n] seeded N(0, 1/k)
  with the point's sharing; O(nkd);
- `linear`: φ(Q)(φ(K)ᵀV) / (φ(Q)·Σφ(K) + 1e-6), φ = elu + 1, non-causal (PyTorch has no causal
  linear attention of its own: causal points are fast-transformers'); O(nd²);
- `performer`: performer-pytorch's `FastAttention` (FAVOR+ with m = the point's features,
  orthogonal features, its own ε = 1e-4 inside the features), when that package is installed;
- `reformer`: reformer-pytorch's `LSHAttention` (shared QK as its input, the point's rounds,
  `bucket_size` = the point's chunk, so its bucket count is n / chunk where ours is the point's fixed
  count), when that package is installed.

Performer and Reformer draw their own random features and rotations, so they are not checked
against NumPy here (`make crosscheck` checks performer-pytorch's FAVOR+ against ours on the same features).
"""
import math

import numpy as np

import peer_common as common

FRAMEWORK = "pytorch"
FORMS = {
    ("standard", False): "matmul-softmax-matmul", ("standard", True): "matmul-softmax-matmul, −inf mask",
    ("flash", False): "scaled_dot_product_attention", ("flash", True): "scaled_dot_product_attention(is_causal)",
    ("linformer", False): "softmax(Q (E K)ᵀ/√d)(F V)", ("linear", False): "φ(Q)(φ(K)ᵀV)/(φ(Q)·Σφ(K) + ε)",
    ("performer", False): "performer-pytorch FastAttention", ("performer", True): "performer-pytorch FastAttention",
    ("reformer", False): "reformer-pytorch LSHAttention", ("reformer", True): "reformer-pytorch LSHAttention",
}
PACKAGES = {"performer": "performer_pytorch", "reformer": "reformer_pytorch"}


def missing():
    try:
        import torch  # noqa: F401
    except ImportError:
        return "PyTorch is not installed (pip install torch)"
    return None


def versions():
    import torch
    found = {"torch": torch.__version__, "torchConfig": torch.__config__.parallel_info().strip()}
    for package in PACKAGES.values():
        try:
            module = __import__(package)
            found[package.replace("_", "-")] = getattr(module, "__version__", "installed")
        except ImportError:
            pass
    return found


def form(mechanism, causal, q, k, v, e, f, point):
    """The call that computes `mechanism` the way PyTorch users write it, on torch tensors."""
    import torch
    import torch.nn.functional as F
    scale = 1 / math.sqrt(q.shape[-1])
    n = q.shape[-2]
    if mechanism == "flash":
        return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    if mechanism == "standard":
        mask = torch.ones(n, n, dtype=torch.bool).triu(1) if causal else None

        def standard():
            s = q @ k.transpose(-2, -1) * scale  # [b, h, n, d]·[b, h, d, n] → [b, h, n, n]
            if mask is not None:
                s = s.masked_fill(mask, float("-inf"))
            return torch.softmax(s, dim=-1) @ v
        return standard
    if mechanism == "linformer":
        return lambda: torch.softmax(q @ (e @ k).transpose(-2, -1) * scale, dim=-1) @ (f @ v)  # [k, n]·[n, d] → [k, d]
    if mechanism == "linear":
        def linear():
            fq, fk = F.elu(q) + 1, F.elu(k) + 1
            state = fk.transpose(-2, -1) @ v  # [d, n]·[n, d] → [d, d]
            denominator = fq @ fk.sum(dim=-2).unsqueeze(-1) + common.LINEAR_EPS  # [n, d]·[d, 1] → [n, 1]
            return (fq @ state) / denominator
        return linear
    if mechanism == "performer":
        from performer_pytorch import FastAttention
        attention = FastAttention(dim_heads=q.shape[-1], nb_features=point.features or 256, causal=causal)
        return lambda: attention(q, k, v)
    if mechanism == "reformer":
        from reformer_pytorch import LSHAttention
        b, heads, length, d = q.shape
        attention = LSHAttention(bucket_size=point.chunk or 32, n_hashes=point.hash_rounds or 1, causal=causal)
        qk, values = q.reshape(b * heads, length, d), v.reshape(b * heads, length, d)  # heads folded into batch
        return lambda: attention(qk, values)[0]
    raise ValueError(f"no PyTorch form for {mechanism}")


def tensors(*arrays):
    import torch
    return [None if a is None else torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]


def evaluate(mechanism, causal, q, k, v, e, f, point):
    import torch
    with torch.inference_mode():
        return form(mechanism, causal, *tensors(q, k, v, e, f), point)().numpy()


def time(point, policy):
    import torch
    if (point.mechanism, point.causal) not in FORMS:
        raise common.Skip("PyTorch has no causal linear attention of its own" if point.mechanism == "linear"
                          else f"no PyTorch form for {point.mechanism}{' causal' if point.causal else ''}")
    package = PACKAGES.get(point.mechanism)
    if package is not None:
        try:
            __import__(package)
        except ImportError:
            name = package.replace("_", "-")
            raise common.Skip(f"{name} is not installed (pip install {name})")
    extra = {"performer": 2 * point.n * (point.features or 256) + 4 * point.n * point.d,
             "reformer": 16 * (point.hash_rounds or 1) * point.n * ((point.chunk or 32) + point.d)}
    common.check_budget(point, common.intermediates(point) + point.b * point.h * extra.get(point.mechanism, 0))
    torch.set_num_threads(point.threads)
    torch.manual_seed(point.seed)  # performer-pytorch's features, reformer-pytorch's rotations
    call = form(point.mechanism, point.causal, *tensors(*common.inputs(point)), point)
    with torch.inference_mode():
        return common.measure(call, policy)
