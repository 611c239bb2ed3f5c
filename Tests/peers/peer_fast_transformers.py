"""pytorch-fast-transformers' CPU causal linear attention kernel, the RNN paper's own
(`fast_transformers.causal_product.causal_dot_product`, its C++ extension), for causal `linear` points:

    out_i = φ(q_i) Σ_{j≤i} φ(k_j)ᵀ v_j / (φ(q_i)·Σ_{j≤i} φ(k_j) + 1e-6),   φ = elu + 1,

the numerator by `causal_dot_product` (one running d×d state per head, O(nd²) time, O(d²) memory in
the kernel), the denominator by a cumulative sum, as its `CausalLinearAttention` composes them (on
[b, h, n, d] here, where the module permutes from [b, n, h, d] first). Threads: its kernel is an
OpenMP loop over batch and heads run by PyTorch's intra-op pool, set by `torch.set_num_threads`.
"""
import peer_common as common

FRAMEWORK = "fast-transformers"
FORMS = {("linear", True): "causal_dot_product (CPU) numerator, cumulative-sum denominator"}


def missing():
    try:
        import torch  # noqa: F401
        from fast_transformers.causal_product import causal_dot_product  # noqa: F401
    except ImportError as error:
        return f"pytorch-fast-transformers is not installed ({error}; pip install --no-build-isolation pytorch-fast-transformers)"
    return None


def versions():
    import fast_transformers
    return {"fast-transformers": getattr(fast_transformers, "__version__", "installed")}


def form(q, k, v):
    import torch.nn.functional as F
    from fast_transformers.causal_product import causal_dot_product

    def causal_linear():
        fq, fk = F.elu(q) + 1, F.elu(k) + 1
        numerator = causal_dot_product(fq, fk, v)  # [b, h, n, d]: Σ_{j≤i} (φ(q_i)·φ(k_j)) v_j
        denominator = (fq * fk.cumsum(dim=-2)).sum(dim=-1, keepdim=True) + common.LINEAR_EPS  # [b, h, n, 1]
        return numerator / denominator
    return causal_linear


def evaluate(mechanism, causal, q, k, v, e, f, point):
    import torch
    with torch.inference_mode():
        return form(*(torch.from_numpy(x.copy()) for x in (q, k, v)))().numpy()


def time(point, policy):
    import torch
    if (point.mechanism, point.causal) not in FORMS:
        raise common.Skip("fast-transformers' CPU kernel is causal linear attention only")
    common.check_budget(point, common.intermediates(point))
    torch.set_num_threads(point.threads)
    q, k, v, _, _ = common.inputs(point)
    call = form(*(torch.from_numpy(x) for x in (q, k, v)))
    with torch.inference_mode():
        return common.measure(call, policy)
