/// Drops the ID3v2 tag an MP3 file may start with (ID3v2.4 §3.1: "ID3", version, flags, then
/// the tag's size as four 7-bit bytes, plus a 10-byte footer when flag 0x10 is set). MP3 pieces
/// joined into one stream keep only the first piece's tag: what follows is MPEG audio frames.
/// The tag is looked for in a piece's first chunk only (a chunk of fewer than 10 bytes passes).
struct LeadingID3Tag {
    private var atStart = false
    private var skipping = 0

    /// A new piece begins: its leading tag, if any, is dropped.
    mutating func pieceBegins() {
        atStart = true
        skipping = 0
    }

    /// `bytes` of the current piece without the part of its leading tag they hold.
    mutating func strip(_ bytes: [UInt8]) -> [UInt8] {
        if skipping > 0 {
            let dropped = min(skipping, bytes.count)
            skipping -= dropped
            return Array(bytes.dropFirst(dropped))
        }
        guard atStart else { return bytes }
        atStart = false
        guard bytes.count >= 10, bytes.starts(with: [0x49, 0x44, 0x33]) else { return bytes }
        let size = bytes[6..<10].reduce(0) { $0 << 7 | Int($1 & 0x7F) }
        let whole = 10 + size + (bytes[5] & 0x10 != 0 ? 10 : 0)
        let dropped = min(whole, bytes.count)
        skipping = whole - dropped
        return Array(bytes.dropFirst(dropped))
    }
}
