import Foundation

/// The table `speechrouter models` prints: one model a line, voices cut short unless asked for all.
struct ModelTable {
    struct Row {
        var id: String
        var contextLength: Int?
        /// USD per character, as the API writes it.
        var pricePerCharacter: String
        var voices: [String]
    }

    var rows: [Row]
    /// How wide the voices column may grow before it is cut short; nil for every voice.
    var voicesWidth: Int? = 60

    func render() -> String {
        let header = ["MODEL", "MAX CHARS", "USD / 1M CHARS", "VOICES"]
        let lines =
            [header]
            + rows.map { row in
                [
                    row.id, row.contextLength.map(String.init) ?? "-", Self.price(row.pricePerCharacter),
                    voices(row.voices),
                ]
            }
        return TextColumns.render(lines)
    }

    /// "0" is free; otherwise the per-character price times a million, exactly.
    static func price(_ perCharacter: String) -> String {
        guard let value = Decimal(string: perCharacter, locale: Locale(identifier: "en_US_POSIX")) else {
            return perCharacter
        }
        return value.isZero ? "free" : "\(value * 1_000_000)"
    }

    private func voices(_ voices: [String]) -> String {
        let all = voices.joined(separator: ", ")
        guard let voicesWidth, all.count > voicesWidth else { return all }
        var shown = ""
        for (index, voice) in voices.enumerated() {
            let next = shown + voice + ", "
            guard next.count + "… (+\(voices.count - index - 1) more)".count <= voicesWidth else {
                return shown + "… (+\(voices.count - index) more)"
            }
            shown = next
        }
        return all
    }
}
