import Foundation

/// Lines of cells as aligned columns: each column but the last padded to its widest cell plus two.
enum TextColumns {
    static func render(_ lines: [[String]]) -> String {
        let columns = lines.map(\.count).max() ?? 0
        let widths = (0..<max(columns - 1, 0)).map { column in
            lines.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return lines.map { line in
            zip(line.dropLast(), widths).map { $0.padding(toLength: $1 + 2, withPad: " ", startingAt: 0) }.joined()
                + (line.last ?? "")
        }.joined(separator: "\n")
    }
}
