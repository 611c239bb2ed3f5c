/// Which of OpenBLAS's kernel families ("cores": `Prescott`, `Haswell`, `Zen`, `SkylakeX`, …) a
/// process ran, and why: what the library picked on its own when it loaded, the best one the CPU
/// can run, and who chose the one that ran. A run on a core older than the CPU's best carries a
/// warning, so no sidecar records a fallback core in silence.
public struct OpenBLASCoreRecord: Codable, Equatable, Sendable {
    /// The core OpenBLAS picked on its own at load time (`openblas_get_corename` before a restart).
    public var detected: String
    /// The core this process ran.
    public var running: String
    /// The best core of this OpenBLAS build that the CPU supports (from cpuid), or nil off x86-64.
    public var best: String?
    /// Who chose `running`: "OpenBLAS", "attnbench" (restarted with `OPENBLAS_CORETYPE`),
    /// "OPENBLAS_CORETYPE" (set by the user) or "--openblas-core".
    public var chosenBy: String
    /// Set when `running` is older than `best`, or differs from what was asked for.
    public var warning: String?

    public init(detected: String, running: String, best: String?, chosenBy: String, warning: String? = nil) {
        (self.detected, self.running, self.best, self.chosenBy, self.warning) = (
            detected, running, best, chosenBy, warning
        )
    }

    /// One phrase for a report header: "Zen, OpenBLAS's own choice" or "SkylakeX, chosen by
    /// attnbench (OpenBLAS picked Prescott)", with the warning when there is one.
    public var summary: String {
        var text = running
        switch chosenBy {
        case "OpenBLAS": text += ", OpenBLAS's own choice"
        case "attnbench": text += ", chosen by attnbench (OpenBLAS picked \(detected))"
        default: text += ", set by \(chosenBy)" + (detected == running ? "" : " (OpenBLAS had loaded \(detected))")
        }
        if let best, best != running { text += "; this CPU's best is \(best)" }
        if let warning { text += ". Warning: \(warning)" }
        return text
    }
}
