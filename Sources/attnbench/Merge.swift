import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

/// `attnbench merge`: the shards of one sweep into one results file.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the CSVs (and sidecars) of a sweep's shards (run --shard i/N) into one results file.",
        discussion: """
            Refuses shards of different commits, schemas, seeds, timing policies, builds or grids, a shard \
            given twice and a point in two files. Lists absent shards and the points a shard planned but \
            has no row for (complete them with `run --resume` on that shard). Rows are written in grid \
            order; the metadata keeps every shard's machine and sessions. plot, report, check, compare and \
            export read the merged file as any other.
            """)

    @Option(help: "Merged CSV to write (its .meta.json, .tokens.csv and .samples.csv beside it).") var output: String
    @Flag(help: "Replace the output and its sidecars when they exist.") var overwrite = false
    @Flag(help: "Exit 1 when a shard or a point is missing (the file is still written).") var requireComplete = false
    @Argument(help: "The shards' CSV files.") var shards: [String]

    func run() throws {
        var incomplete = false
        try reportingUsageErrors {
            let inputs = shards.flatMap { [$0] + ResultsFile.sidecars(of: $0) }
            let outputs = [output] + ResultsFile.sidecars(of: output)
            try OutputFile.checkDistinct(outputs, inputs: inputs)
            for path in outputs { try OutputFile.checkWritable(path, overwrite: overwrite, inputs: inputs) }
            let merge = try ShardMerge(paths: shards)
            let rows = merge.rows
            let (tokens, samples) = (merge.tokenRows, merge.sampleRows)
            // Sidecars first, the CSV last; a sidecar with nothing to hold is removed, so no old one stays.
            try OutputFile.write(
                try merge.metadata.json(), to: RunMetadata.path(forCSV: output), overwrite: overwrite, inputs: inputs)
            for (path, text) in [
                (
                    TokenLatencyRow.path(forCSV: output),
                    tokens.isEmpty ? nil : RowFile.text(tokens, TokenLatencyRow.table)
                ),
                (SampleRow.path(forCSV: output), samples.isEmpty ? nil : RowFile.text(samples, SampleRow.table)),
            ] {
                if let text {
                    try OutputFile.write(text, to: path, overwrite: overwrite, inputs: inputs)
                } else if FileManager.default.fileExists(atPath: path) {
                    do { try FileManager.default.removeItem(atPath: path) } catch {
                        throw FileError("cannot remove \(path): \(describe(error))")
                    }
                }
            }
            try OutputFile.write(RowFile.text(rows, ResultRow.table), to: output, overwrite: overwrite, inputs: inputs)
            let grid = merge.grid.map { " of \($0.points)" } ?? ""
            print(
                "merge: wrote \(output): \(rows.count)\(grid) points from \(merge.inputs.count) of \(merge.count) shard(s)"
            )
            for shard in merge.missingShards {
                print("merge: missing shard \(shard)/\(merge.count): its points are not in any file given")
            }
            let missing = merge.missingPoints
            for (shard, point) in missing {
                print(
                    "merge: missing point (shard \(shard)/\(merge.count), grid position \(point.position)): \(point.key.joined(separator: ","))"
                )
            }
            let dirty = merge.inputs.filter { $0.metadata.gitDirty == true }.map(\.path)
            if !dirty.isEmpty {
                FileHandle.standardError.write(
                    Data(
                        "merge: warning: \(dirty.joined(separator: ", ")) measured with uncommitted changes: one commit does not prove one code\n"
                            .utf8))
            }
            incomplete = !missing.isEmpty || !merge.missingShards.isEmpty
        }
        if incomplete && requireComplete { throw ExitCode.failure }
    }
}
