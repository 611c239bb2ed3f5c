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
    /// Whether attnbench's row comes from the same file as the peer's, i.e. was measured in the same
    /// run, interleaved with it (`Tests/peers`); otherwise it comes from another run's results table.
    public var sameRun: Bool

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
    /// Every measured peer row: the results table's own and the peers file's (``peers``), once each.
    public var peerRows: [ResultRow] {
        var seen = Set<SweepPoint>()
        return (measured + (peers?.measured ?? [])).filter { $0.point.peer != nil && seen.insert($0.point).inserted }
    }

    /// The peer's forward series to draw beside attnbench's: those of the peers file that the results
    /// table does not hold itself.
    public var peerSeries: [Series] {
        guard let peers else { return [] }
        // Only beside this run's own curves: a decode, training or layer run gets no peer curves.
        let own = Set(series.map(\.key))
        return Series.all(in: ResultTable(rows: peers.measured.filter { $0.point.peer != nil }))
            .filter { own.contains($0.key.ownCounterpart) }
    }

    /// attnbench against its peers, point by point: each peer row with attnbench's row at the same
    /// point, taken from the peer row's own file when it has one (measured in the same run) or else
    /// from the other file. Ordered by mechanism, k, causal, n, batch and threads.
    public func peerComparisons() -> [PeerComparison] {
        let fromPeersFile = Dictionary(
            (peers?.measured ?? []).map { ($0.point, $0) }, uniquingKeysWith: { _, last in last })
        let fromTable = Dictionary(measured.map { ($0.point, $0) }, uniquingKeysWith: { _, last in last })
        let peerRows = self.peerRows
        let byPoint = Dictionary(peerRows.map { ($0.point, $0) }, uniquingKeysWith: { _, last in last })
        let comparisons = peerRows.compactMap { row -> PeerComparison? in
            let key = row.point.ownCounterpart
            guard fromTable[key] != nil else { return nil }  // only points this run measured itself
            let (sameFile, otherFile) =
                fromTable[row.point] != nil ? (fromTable, fromPeersFile) : (fromPeersFile, fromTable)
            let (own, sameRun) = sameFile[key].map { ($0, true) } ?? (otherFile[key], false)
            guard let own else { return nil }
            var fused: ResultRow?
            if let fusedForm = row.point.mechanism.descriptor.peer?.fused {
                var f = row.point
                f.mechanism = fusedForm
                fused = byPoint[f]
            }
            return PeerComparison(own: own, peer: row, peerFused: fused, sameRun: sameRun)
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
