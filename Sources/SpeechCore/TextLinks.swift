/// `[text](target)` spans in a text, as hibari's markup writes a word with its phonemes
/// (`[Kokoro](/kˈOkəɹO/)`): found left to right as the pattern `\[([^\]]+)\]\(([^\)]*)\)` finds
/// them, in one pass (the pattern itself takes quadratic time on a long run of `[` with no match).
public struct TextLink: Equatable, Sendable {
    public var whole: Range<String.Index>
    public var text: Range<String.Index>
    public var target: Range<String.Index>

    public static func links(in text: some StringProtocol) -> [TextLink] {
        var links: [TextLink] = []
        var index = text.startIndex
        while let open = text[index...].firstIndex(of: "[") {
            let textStart = text.index(after: open)
            guard let close = text[textStart...].firstIndex(of: "]") else { break }
            let afterClose = text.index(after: close)
            // Every `[` before `close` meets the same `]`: none of them starts a link unless this one does.
            guard close > textStart, afterClose < text.endIndex, text[afterClose] == "(" else {
                index = afterClose
                continue
            }
            let targetStart = text.index(after: afterClose)
            guard let end = text[targetStart...].firstIndex(of: ")") else { break }
            links.append(
                TextLink(whole: open..<text.index(after: end), text: textStart..<close, target: targetStart..<end))
            index = text.index(after: end)
        }
        return links
    }
}
