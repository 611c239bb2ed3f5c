import AttentionTypes
import Results

/// One point measured by attnbench and by its peers (``Peer``): a row of the report's ratio table.
public struct PeerComparison: Sendable {
    /// attnbench's row at the point.
    public var own: ResultRow
    /// Every peer's row of the same form at the point (the same key but the framework), fastest
    /// first: the first is the one attnbench is compared with.
    public var peers: [ResultRow]
    /// The peers' fused exact attention (`flash`) at the same shape, fastest first, for
    /// materialised standard attention: the honest softmax baseline (flash's own ratio is against it already).
    public var fused: [ResultRow]

    /// The fastest peer of the form.
    public var fastest: ResultRow { peers[0] }
    /// The fastest fused exact peer, for standard attention.
    public var fastestFused: ResultRow? { fused.first }

    /// attnbench's median ÷ the fastest peer's (< 1: attnbench is faster than every peer).
    public var ratio: Double? { Self.ratio(own, fastest) }
    /// attnbench's median ÷ the fastest fused exact peer's.
    public var fusedRatio: Double? { fastestFused.flatMap { Self.ratio(own, $0) } }

    static func ratio(_ a: ResultRow, _ b: ResultRow) -> Double? {
        guard let x = a.median, let y = b.median, y > 0 else { return nil }
        return x / y
    }

    /// Rows fastest first; ties (and unmeasured medians, last) in ``Peer`` order, so the table
    /// never depends on hashing.
    static func fastestFirst(_ rows: [ResultRow]) -> [ResultRow] {
        let order = Dictionary(uniqueKeysWithValues: Peer.allCases.enumerated().map { ($1, $0) })
        return rows.sorted { a, b in
            let (x, y) = (a.median ?? .infinity, b.median ?? .infinity)
            if x != y { return x < y }
            return order[a.point.peer!, default: 0] < order[b.point.peer!, default: 0]
        }
    }
}

extension Analysis {
    /// attnbench against its peers, point by point, only where both were measured in one session:
    /// at each of attnbench's points, every peer row of the same form (same key, another framework)
    /// from the same file (``peers``, where `Tests/peers` interleaves them round by round, or the
    /// results table when it holds peer rows itself), fastest first. A peer row is never set beside a
    /// row of another run: another session, perhaps another commit or machine. The forms are the
    /// mechanisms: fused exact (`flash`), materialised exact (`standard`, also set beside the fastest
    /// fused peer), Linformer, linear (causal linear is fast-transformers' kernel), Performer,
    /// Reformer. Ordered by mechanism, k, causal, n, batch and threads.
    public func peerComparisons() -> [PeerComparison] {
        let comparisons = [table.measured, peers?.measured ?? []].flatMap { rows -> [PeerComparison] in
            let own = Dictionary(
                rows.filter { $0.point.peer == nil }.map { ($0.point, $0) }, uniquingKeysWith: { _, last in last })
            let byForm = Dictionary(grouping: rows.filter { $0.point.peer != nil }, by: \.point.ownCounterpart)
            return byForm.compactMap { point, peerRows -> PeerComparison? in
                guard let mine = own[point] else { return nil }
                var fused: [ResultRow] = []
                if let fusedForm = point.mechanism.descriptor.peer?.fused {
                    var f = point
                    f.mechanism = fusedForm
                    fused = byForm[f] ?? []
                }
                return PeerComparison(
                    own: mine, peers: PeerComparison.fastestFirst(peerRows), fused: PeerComparison.fastestFirst(fused))
            }
        }
        return comparisons.sorted { a, b in
            let (p, q) = (a.own.point, b.own.point)
            let (ra, rb) = (p.mechanismRank, q.mechanismRank)
            let (x, y) = (
                (ra.0, ra.1, p.causal ? 1 : 0, p.length, p.batch, p.threads),
                (rb.0, rb.1, q.causal ? 1 : 0, q.length, q.batch, q.threads)
            )
            return x != y ? x < y : p.label < q.label  // the label last: grouping is by hashing
        }
    }
}
