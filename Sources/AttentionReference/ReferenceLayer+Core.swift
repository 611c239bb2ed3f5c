import AttentionKernels

/// The attention cores in Float64 on bounded inputs, for the end-to-end check of a whole stack
/// (``Verification/endToEnd(_:x:boundaries:final:weights:)``), where Q, K and V are themselves Float64 values
/// that the kernel's differ from. The formulas, the rounding bounds and their first-order propagation of
/// the input bounds are ``ReferenceAttention``'s own
/// (``ReferenceAttention/attentionRow(_:q:keys:values:causal:rescalings:)``, ``ReferenceAttention/product(_:_:)``,
/// ``ReferenceAttention/linearSlice(_:causal:epsilon:)``): with zero input bounds this is
/// ``ReferenceAttention/output(of:q:k:v:)`` exactly, which a test checks.
/// Fields are `[b·n, h·d]`, heads side by side (``ReferenceLayer/tokens(heads:)``).
extension ReferenceLayer {
    static func core(_ kernel: any AttentionKernel, q: Field, k: Field, v: Field, batch: Int, heads: Int) -> Field {
        let (n, d) = (q.rows / batch, q.cols / heads)
        let shape = AttentionShape(batch: batch, heads: heads, length: n, headDim: d)
        // [b·n, h·d] → [b, h, n, d], so that slice s is rows s·n..<(s + 1)·n.
        let (qh, kh, vh) = (
            headsFirst(q, batch: batch, heads: heads), headsFirst(k, batch: batch, heads: heads),
            headsFirst(v, batch: batch, heads: heads)
        )
        let out = ReferenceAttention.output(of: kernel, shape: shape) { s in
            (
                Field(qh, slice: s, rows: n, cols: d), Field(kh, slice: s, rows: n, cols: d),
                Field(vh, slice: s, rows: n, cols: d)
            )
        }
        return tokensFirst(out, batch: batch, heads: heads, length: n)
    }
}
