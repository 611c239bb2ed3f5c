"""ONNX Runtime on the CPU: the `com.microsoft` MultiHeadAttention contrib op, its fused CPU path,
for `flash` points (fused exact attention):

    out = softmax(Q Kᵀ/√d [+ −∞ over j > i when causal]) V   per head, inputs [b, n, h·d],

one node built in memory with `onnx.helper` (`num_heads` = h; causal via its `unidirectional`
attribute), run by an `InferenceSession` on the CPU execution provider with
`intra_op_num_threads` = the point's threads (and one inter-op thread, sequential execution).
Q, K, V are laid out [b, n, h·d] (the op's 3-D form) outside the timed region; its output is in the
same layout (no transpose timed). Its kernel blocks the scores row by row in MLAS, so no n×n per head
is kept beside the output.
"""
import numpy as np

import peer_common as common

FRAMEWORK = "onnxruntime"
FORMS = {("flash", False): "com.microsoft MultiHeadAttention", ("flash", True): "MultiHeadAttention, unidirectional = 1"}


def missing():
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        return f"ONNX Runtime is not installed ({error}; pip install onnxruntime onnx)"
    return None


def versions():
    import onnx
    import onnxruntime
    return {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__}


def session(heads, causal, threads):
    """An InferenceSession of one MultiHeadAttention node over [b, n, h·d] inputs q, k, v."""
    import onnxruntime as ort
    from onnx import TensorProto, helper
    attributes = {"num_heads": heads}
    if causal:
        attributes["unidirectional"] = 1
    node = helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["out"], domain="com.microsoft", **attributes)
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["b", "n", "hd"]) for name in ("q", "k", "v")]
    output = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", "n", "hd"])
    graph = helper.make_graph([node], "multi_head_attention", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def packed(x):
    """[b, h, n, d] → [b, n, h·d], contiguous."""
    b, h, n, d = x.shape
    return np.ascontiguousarray(x.transpose(0, 2, 1, 3).reshape(b, n, h * d))


def evaluate(mechanism, causal, q, k, v, e, f, point):
    b, h, n, d = q.shape
    out = session(h, causal, 1).run(None, {"q": packed(q), "k": packed(k), "v": packed(v)})[0]
    return out.reshape(b, n, h, d).transpose(0, 2, 1, 3)


def time(point, policy):
    if (point.mechanism, point.causal) not in FORMS:
        raise common.Skip("ONNX Runtime's MultiHeadAttention is fused exact attention (flash) only")
    common.check_budget(point, common.intermediates(point))
    q, k, v, _, _ = common.inputs(point)
    run = session(point.h, point.causal, point.threads)
    feeds = {"q": packed(q), "k": packed(k), "v": packed(v)}
    return common.measure(lambda: run.run(None, feeds), policy)
