import Foundation
import Reporting
import Results

/// Named sweeps kept as readable files, `Presets/<name>.preset`: `key = value` lines with the keys
/// of ``SweepSpec/keys``, `#` comments, blank lines ignored.
public enum Preset {
    /// Where presets are looked for: `./Presets`, then the `Presets` folder of the checkout this
    /// binary was built from.
    public static var searchPaths: [String] {
        let source = URL(fileURLWithPath: #filePath)  // <repo>/Sources/Harness/Preset.swift
        let repo = source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return [FileManager.default.currentDirectoryPath + "/Presets", repo.path + "/Presets"]
    }

    /// Finds a preset by name (or by path, when `name` ends in `.preset`).
    public static func locate(_ name: String) throws(UsageError) -> String {
        if name.hasSuffix(".preset") {
            guard FileManager.default.fileExists(atPath: name) else {
                throw UsageError("preset file \(name) does not exist")
            }
            return name
        }
        for folder in searchPaths where FileManager.default.fileExists(atPath: "\(folder)/\(name).preset") {
            return "\(folder)/\(name).preset"
        }
        throw UsageError("no preset named '\(name)'; available: \(available().joined(separator: ", "))")
    }

    /// Names of the presets found on the search paths.
    public static func available() -> [String] {
        var names = Set<String>()
        for folder in searchPaths {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for file in files where file.hasSuffix(".preset") { names.insert(String(file.dropLast(7))) }
        }
        return names.sorted()
    }

    /// Reads a preset file into a spec.
    /// - Throws: ``UsageError`` for a missing or malformed preset, ``FileError`` when it cannot be read.
    public static func load(_ name: String) throws -> SweepSpec {
        let path = try locate(name)
        let text = try TextFile.read(path)
        var spec = try parse(text, source: path)
        spec.name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return spec
    }

    /// Parses preset text; errors name the file and line.
    public static func parse(_ text: String, source: String = "preset") throws(UsageError) -> SweepSpec {
        var spec = SweepSpec()
        var seen = Set<String>()
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw UsageError("\(source):\(number + 1): expected 'key = value', got '\(raw)'")
            }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            guard seen.insert(key).inserted else { throw UsageError("\(source):\(number + 1): '\(key)' is set twice") }
            do { try spec.apply(key, String(parts[1])) } catch {
                throw UsageError("\(source):\(number + 1): \(error.description)")
            }
        }
        if seen.contains("batch") && seen.contains("tokens") {
            throw UsageError("\(source): set batch or tokens, not both")
        }
        return spec
    }
}
