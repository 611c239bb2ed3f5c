import Analysis
import AttentionTypes
import Foundation
import Results

extension Report {
    /// "Transformers are RNNs" Figure 1 as the paper drew it: per-sample time and peak heap against N
    /// with the batch scaled inversely with N, each curve's exponent fitted. Only for runs whose
    /// batch varies with N (the rnn-figure1 preset); empty otherwise.
    /// What the lsh curves are, and where the public implementations differ from the paper and ours.
    static let lshNote = """

        The lsh-R curves are Reformer's LSH attention with R hashing rounds, 64 buckets and chunks of 32, as the paper's §4.1 set it: shared QK, each round's sorted chunks attending to themselves and the chunk before, self only when nothing else is left, rounds combined by their log-sum-exp weights (one softmax over the (round, key) pairs, without Reformer's duplicate-count correction). Its training step keeps each round's sorted order and each query's log-sum-exp (R·n + n floats per head) and recomputes the chunk scores in the backward, so its heap holds the output, the three gradients and O(n·(d + b)) per thread, never n×n. The paper's curves came from a PyTorch reimplementation; the RNN paper's own library, fast-transformers, has a `ReformerAttention` that averages the rounds with equal weight and builds an n×n additive mask (O(n²) memory, plausibly why the paper's lsh-4 and lsh-8 stop at 16384 on 11 GB), and reformer-pytorch's `LSHAttention` (timed by `make bench-peers`) sets its bucket count to n ÷ bucket size rather than a fixed 64.

        """

    func figure1() -> String {
        let curves = analysis.perSampleCurves()
        guard curves.contains(where: { $0.rows.count >= 2 }),
            Set(curves.flatMap { $0.rows.map(\.point.batch) }).count > 1
        else { return "" }
        let pass = analysis.figure1Pass
        let what =
            pass == .train
            ? "a training step (the forward pass that keeps what the backward reads, then the backward pass from a seeded dO), as the paper timed"
            : "the forward pass only; the paper timed a forward and backward pass (run the preset with `--pass train`)"
        let heading =
            analysis.isFigure1Setup
            ? "\"Transformers are RNNs\" Figure 1: per sample, batch ∝ 1/N"
            : "Per sample against N, batch ∝ 1/N (not Figure 1's setup, which times a training step)"
        var md = """
            ## \(heading)

            Each point is \(what), at a batch of tokens ÷ N, divided by the batch. Exponents are least-squares fits of log(value per sample) on log N with a 95% interval. The paper's claim: linear attention is faster and needs less memory than softmax at every N, with softmax ∝ N² and linear ∝ N.

            | mechanism | N | time per sample exponent | peak heap per sample exponent | at the largest N: time per sample | peak heap per sample |
            |---|---|---|---|---|---|

            """
        for c in curves where !c.rows.isEmpty {
            let fits = Analysis.perSampleFits(c.rows)
            let last = c.rows[c.rows.count - 1]
            let perSample = { (x: Double) in x / Double(last.point.batch) }
            md +=
                "| \(c.label) | \(c.rows[0].point.length)–\(last.point.length) | \(Self.fit(fits.time)) | \(Self.fit(fits.memory)) | "
            // A value not measured is a dash, never 0.
            md +=
                (last.median.map { String(format: "%.3f ms", perSample($0 * 1e3)) } ?? "–") + Self.callsNote(last)
                + " | "
            let heap = last.peakHeapBytes.map { String(format: "%.2f MiB", perSample(Double($0) / 1_048_576)) }
            md += (heap ?? "–") + " |\n"
        }
        if let limit = analysis.standardMemoryLimit() {
            md +=
                "\nSoftmax stops at N = \(limit), whose points were skipped: their predicted heap is over the memory budget (the paper's softmax curve stops at 4096 on an 11 GB GPU).\n"
        }
        if curves.contains(where: { $0.key.mechanism == .reformer }) { md += Self.lshNote }
        return md
    }

    /// Backward passes and training steps against the forward pass of the same kernel and point.
    /// Empty unless the run timed a forward pass and a backward or training pass of one point.
    func training() -> String {
        let comparisons = analysis.trainingComparisons().filter { $0.forward != nil }
        guard !comparisons.isEmpty else { return "" }
        var md = """
            ## Training: the backward pass and the training step against the forward pass

            Per kernel and n: median times of the forward pass, the backward pass alone (on a forward saved beforehand) and the training step (forward + backward), the backward's and the step's as multiples of the forward's; and the peak heap of the forward and of the step (its saved forward, the output, the gradients and the backward's intermediates, as jemalloc's thread.peak sees them). The GEMMs put the standard and Linformer backwards at about 2× their forward (four products of the forward's size against two, Linformer's four more through E and F against two); linear attention's causal backward (the paper's §3.3.1 gradient, prefix and suffix sums) keeps O(n·d) per head, so its step's heap stays a small multiple of its forward's where keeping every S_i would cost ~d times it.

            | kernel | batch | n | forward ms | backward ms | step ms | backward ÷ forward | step ÷ forward | forward heap | step heap | step heap ÷ forward |
            |---|---|---|---|---|---|---|---|---|---|---|

            """
        let ms = { (r: ResultRow?) in
            r.flatMap { r in r.median.map { String(format: "%.3f", $0 * 1e3) + Self.callsNote(r) } } ?? "–"
        }
        let ratio = { (x: Double?) in x.map { String(format: "%.2f×", $0) } ?? "–" }
        let heap = { (r: ResultRow?) in r?.peakHeapBytes.map { formatMiB($0, decimals: 2) } ?? "–" }
        for c in comparisons {
            let p = c.point
            md +=
                "| \(p.kernelLabel) | \(p.batch) | \(p.length) | \(ms(c.forward)) | \(ms(c.backward)) | \(ms(c.train)) | "
            md +=
                "\(ratio(c.backwardRatio)) | \(ratio(c.trainRatio)) | \(heap(c.forward)) | \(heap(c.train)) | \(ratio(c.trainHeapRatio)) |\n"
        }
        return md
    }
}
