/// One point of a roofline (`Results/<preset>-roofline.csv`): a call's modelled FLOPs and the bytes
/// it must move, its arithmetic intensity, what it achieved, and the two roofs measured in the same
/// run.
///
/// - `model_gflop`: the cost model's FLOPs per call; `traffic_bytes`: the least it must move to and
///   from memory (``SweepPoint/trafficBytes(cost:)``: its inputs and parameters read once, its
///   output written once, each intermediate tensor it allocates written once and read once);
///   `intensity` = FLOPs ÷ traffic (FLOP per byte);
/// - `time_median_ms`, `gflops`: the plain call's median and FLOPs ÷ median;
/// - `ceiling_gflops`: sgemm (1024³) at the point's threads; `bandwidth_gbs`: the STREAM triad at
///   the point's threads (``Bandwidth``); `roof_gflops` = min(ceiling, intensity × bandwidth);
///   `roof_fraction` = gflops ÷ roof_gflops; `bound` is `memory` when intensity × bandwidth is the
///   lower roof, else `compute`.
public struct RooflineRow: Equatable, Sendable {
    public var point: SweepPoint
    public var modelGflop, trafficBytes, intensity: Double?
    public var median, gflops: Double?
    public var ceilingGflops, bandwidthGBs, roofGflops, roofFraction: Double?
    public var bound = ""

    public init(point: SweepPoint) { self.point = point }

    public static let table: [Column<RooflineRow>] =
        SweepPoint.columns.map { $0.lifted(\.point) } + [
            .double("model_gflop", \.modelGflop, format: "%.6g"),
            .double("traffic_bytes", \.trafficBytes, format: "%.6g"),
            .double("intensity", \.intensity, format: "%.4f"),
            .double("time_median_ms", \.median, format: "%.6f", scale: 1e3),
            .double("gflops", \.gflops, format: "%.3f"),
            .double("ceiling_gflops", \.ceilingGflops, format: "%.3f"),
            .double("bandwidth_gbs", \.bandwidthGBs, format: "%.3f"),
            .double("roof_gflops", \.roofGflops, format: "%.3f"),
            .double("roof_fraction", \.roofFraction, format: "%.4f"),
            .string("bound", \.bound),
        ]

    public static let empty = RooflineRow(point: .empty)

    /// Fills intensity, roof, fraction and bound from the other columns.
    public mutating func derive() {
        guard let flops = modelGflop, let traffic = trafficBytes, traffic > 0 else { return }
        let i = flops * 1e9 / traffic
        intensity = i
        guard let ceiling = ceilingGflops, let bandwidth = bandwidthGBs else { return }
        let memoryRoof = i * bandwidth
        roofGflops = min(ceiling, memoryRoof)
        bound = memoryRoof < ceiling ? "memory" : "compute"
        if let achieved = gflops, let roof = roofGflops, roof > 0 { roofFraction = achieved / roof }
    }
}
