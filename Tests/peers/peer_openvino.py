"""OpenVINO on the CPU: opset-13 ScaledDotProductAttention for `flash` points (fused exact attention),

    out = softmax(Q Kᵀ/√d [+ −∞ over j > i when causal]) V   on [b, h, n, d],

a one-node model (causal via the op's `causal` attribute) compiled for the CPU plugin with
`INFERENCE_PRECISION_HINT: f32` (it would otherwise run bf16 where the CPU has it, not the same
arithmetic) and `INFERENCE_NUM_THREADS` = the point's threads. Inputs are bound once to an
InferRequest as shared-memory tensors, so a timed call is `infer()` alone.
"""
import numpy as np

import peer_common as common

FRAMEWORK = "openvino"
FORMS = {("flash", False): "opset-13 ScaledDotProductAttention, f32", ("flash", True): "ScaledDotProductAttention(causal), f32"}


def opset():
    try:
        import openvino.opset13 as ops
    except ImportError:
        from openvino.runtime import opset13 as ops
    return ops


def missing():
    try:
        import openvino  # noqa: F401
        opset()
    except ImportError as error:
        return f"OpenVINO is not installed ({error}; pip install openvino)"
    return None


def versions():
    import openvino
    return {"openvino": openvino.get_version()}


def request(shape, causal, threads):
    """An InferRequest of one ScaledDotProductAttention over float32 q, k, v of `shape`."""
    import openvino as ov
    ops = opset()
    q, k, v = (ops.parameter(list(shape), np.float32, name=name) for name in ("q", "k", "v"))
    model = ov.Model([ops.scaled_dot_product_attention(q, k, v, causal=causal)], [q, k, v], "sdpa")
    compiled = ov.Core().compile_model(
        model, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads})
    return compiled.create_infer_request()


def bound(shape, causal, threads, arrays):
    import openvino as ov
    r = request(shape, causal, threads)
    for i, a in enumerate(arrays):
        r.set_input_tensor(i, ov.Tensor(np.ascontiguousarray(a), shared_memory=True))
    return r


def evaluate(mechanism, causal, q, k, v, e, f, point):
    r = bound(q.shape, causal, 1, (q, k, v))
    r.infer()
    return np.array(r.get_output_tensor(0).data)


def time(point, policy):
    if (point.mechanism, point.causal) not in FORMS:
        raise common.Skip("OpenVINO's ScaledDotProductAttention is fused exact attention (flash) only")
    common.check_budget(point, common.intermediates(point))
    q, k, v, _, _ = common.inputs(point)
    r = bound(q.shape, point.causal, point.threads, (q, k, v))
    return common.measure(r.infer, policy)
