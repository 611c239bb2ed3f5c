import AttentionTypes
import Results

/// One point measured by attnbench and by a peer (``Peer``): a cell of the report's ratio table.
public struct PeerComparison: Sendable {
    /// attnbench's row and the peer's row at the same point.
    public var own: ResultRow
    public var peer: ResultRow
    /// The peer's fused exact attention (`torch-flash`) at the same shape, for materialised
    /// standard attention: the honest softmax baseline (flash's own ratio is against it already).
    public var peerFused: ResultRow?

    /// attnbench's median ÷ the peer's (< 1: attnbench is faster).
    public var ratio: Double? { Self.ratio(own, peer) }
    /// attnbench's median ÷ the peer's fused exact attention.
    public var fusedRatio: Double? { peerFused.flatMap { Self.ratio(own, $0) } }

    static func ratio(_ a: ResultRow, _ b: ResultRow) -> Double? {
        guard let x = a.median, let y = b.median, y > 0 else { return nil }
        return x / y
    }
}

extension Analysis {
    /// attnbench against its peers, point by point, only where both were measured in one session:
    /// each peer row with attnbench's row at the same point from the same file (``peers``, where
    /// `Tests/peers` interleaves them round by round, or the results table when it holds peer rows
    /// itself). A peer row is never set beside a row of another run: another session, perhaps
    /// another commit or machine. Ordered by mechanism, k, causal, n, batch and threads.
    public func peerComparisons() -> [PeerComparison] {
        let comparisons = [table.measured, peers?.measured ?? []].flatMap { rows -> [PeerComparison] in
            let byPoint = Dictionary(rows.map { ($0.point, $0) }, uniquingKeysWith: { _, last in last })
            return rows.filter { $0.point.peer != nil }.compactMap { row in
                guard let own = byPoint[row.point.ownCounterpart] else { return nil }
                var fused: ResultRow?
                if let fusedForm = row.point.mechanism.descriptor.peer?.fused {
                    var f = row.point
                    f.mechanism = fusedForm
                    fused = byPoint[f]
                }
                return PeerComparison(own: own, peer: row, peerFused: fused)
            }
        }
        return comparisons.sorted { a, b in
            let (p, q) = (a.own.point, b.own.point)
            let (ra, rb) = (p.mechanismRank, q.mechanismRank)
            return (ra.0, ra.1, p.causal ? 1 : 0, p.length, p.batch, p.threads) < (
                rb.0, rb.1, q.causal ? 1 : 0, q.length, q.batch, q.threads
            )
        }
    }
}
