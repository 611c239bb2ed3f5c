import Foundation

/// `1.5 GiB`, `320.0 MiB`, `512 B`: binary units, one decimal.
public func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes)
    var unit = 0
    while abs(value) >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// `12.50 MiB` with a fixed number of decimals, for tables whose rows are compared by eye.
public func formatMiB(_ bytes: Int, decimals: Int) -> String {
    String(format: "%.\(decimals)f MiB", Double(bytes) / 1_048_576)
}
