/// Helpers for writing gnuplot scripts that render to PNG (pngcairo) and SVG from one body.
///
/// Every string from outside (a CPU model, an input path, an output folder) must reach a `.gp`
/// file through one of three functions, because gnuplot 5.4 reads a script line by line and:
/// - a line break ends a string, a comment and the command, so the next line runs as a command;
/// - text in backquotes is run by the shell and replaced by its output, also inside
///   double-quoted strings (`help substitution backquotes`: "anywhere on the command line except
///   inside strings delimited by single quotes"); `\`` inside double quotes is a plain backquote;
/// - double-quoted strings interpret backslash escapes (`\\`, `\"`, `\n`, `\r`, `\t`, octal
///   `\ooo`); `$` and `@` in them are plain text (macros are not expanded inside quotes);
/// - a comment line ending in a backslash continues onto the next line;
/// - a data file name starting with `<`, and an output file name starting with `|`, is a shell
///   command.
public enum Gnuplot {
    /// Text for a double-quoted gnuplot string in enhanced mode (titles, labels, keys): backslash,
    /// quote and the enhanced text operators (`_` `^` `{` `}` `@` `&` `~`) are escaped so labels
    /// print as written; a backquote becomes `\`` so gnuplot does not run it as a command; every
    /// control character (line breaks, tabs, `U+0000`–`U+001F`, `U+007F`–`U+009F`) becomes a
    /// space, so the string stays on its line. Other text is unchanged.
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\\\\\"
            case "\"": out += "\\\""
            case "`": out += "\\`"
            case "_", "^", "{", "}", "@", "&", "~": out += "\\\\" + String(scalar)
            case _ where isControl(scalar): out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A complete double-quoted gnuplot string whose value is exactly `text`, for strings that are
    /// not enhanced text (file paths): `\` `"` and the backquote are escaped; `\n` `\r` `\t` are
    /// written as those escapes and the other ASCII control characters as 3-digit octal escapes.
    /// gnuplot reads octal escapes greedily (`"\0017"` is one character), so an octal digit right
    /// after one is written as an octal escape too. Non-ASCII text passes through as UTF-8. (A NUL
    /// ends gnuplot's C string there; no path holds one.)
    public static func literal(_ text: String) -> String {
        var out = "\""
        var afterOctal = false
        for scalar in text.unicodeScalars {
            let octal = scalar.value < 0x20 && !["\n", "\r", "\t"].contains(scalar) || scalar.value == 0x7F
                || afterOctal && ("0"..."7").contains(scalar)
            afterOctal = octal
            switch scalar {
            case _ where octal:
                let digits = String(scalar.value, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "`": out += "\\`"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Text for a `#` comment line: every control character becomes a space, so it stays on one
    /// line, and a final backslash is followed by a space, so it cannot continue the comment onto
    /// the next line. Backquotes and `@` are inert in comments.
    public static func comment(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) { out += " " } else { out.unicodeScalars.append(scalar) }
        }
        return out.hasSuffix("\\") ? out + " " : out
    }

    /// A complete script: a header saying where it came from, named constants (`FOLDER`, `NAME`,
    /// `DATA` = its data file, sizes), and `body` run once per output format, writing
    /// `<folder>/<name>.png` and `.svg` relative to the directory gnuplot runs in (the repository root).
    /// `folder`, `name`, `title` and `source` may hold anything: they are quoted with ``literal(_:)``
    /// and ``comment(_:)``, and a folder starting with `<` or `|` is written as `./<…` (the same
    /// folder, not a shell command). `body` is gnuplot code: strings in it go through ``escape(_:)``.
    public static func script(
        folder: String = "Plots", name: String, title: String, source: String, width: Int, height: Int, body: String
    ) -> String {
        let shownFolder = comment(folder), shownName = comment(name)
        let folderPath = folder.hasPrefix("<") || folder.hasPrefix("|") ? "./" + folder : folder
        return """
            # \(shownName).gp: \(comment(title))
            # Generated by `attnbench plot` from \(comment(source)). Run from the repository root:
            #     gnuplot \(shownFolder)/\(shownName).gp
            # It writes \(shownFolder)/\(shownName).png and \(shownFolder)/\(shownName).svg.
            reset
            FOLDER = \(literal(folderPath))
            NAME = \(literal(name))
            DATA = FOLDER."/".NAME.".dat"
            WIDTH = \(width)
            HEIGHT = \(height)
            FONT = "sans,11"
            do for [FORMAT in "png svg"] {
                if (FORMAT eq "png") {
                    set terminal pngcairo size WIDTH,HEIGHT enhanced font FONT
                } else {
                    set terminal svg size WIDTH,HEIGHT enhanced font FONT background rgb "white"
                }
                set output sprintf("%s/%s.%s", FOLDER, NAME, FORMAT)
            \(body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
                unset output
            }

            """
    }

    /// Unicode's control characters (general category Cc): `U+0000`–`U+001F` and `U+007F`–`U+009F`.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }
}
