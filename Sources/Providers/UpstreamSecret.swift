import Foundation

/// Our credential at an upstream, and every form in which an upstream may echo it back: as
/// sent, percent-encoded (a URL quoted in an error), and JSON-escaped (a string quoted inside a
/// JSON body). None of them may reach a response, a log line or a record.
struct UpstreamSecret: Sendable {
    /// The forms to remove, longest first, so that no form is left half-replaced by a shorter one.
    private let forms: [String]

    init(_ value: String) {
        guard !value.isEmpty else {
            forms = []
            return
        }
        var forms: Set<String> = [value]
        for allowed in [CharacterSet.alphanumerics, .urlQueryAllowed, .urlPathAllowed] {
            if let encoded = value.addingPercentEncoding(withAllowedCharacters: allowed) {
                forms.insert(encoded)
                forms.insert(Self.lowercasingEscapes(encoded))
                forms.insert(encoded.replacingOccurrences(of: "%20", with: "+"))
            }
        }
        for formatting in [JSONEncoder.OutputFormatting(), .withoutEscapingSlashes] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = formatting
            if let data = try? encoder.encode(value), let quoted = String(data: data, encoding: .utf8) {
                forms.insert(String(quoted.dropFirst().dropLast()))
            }
        }
        self.forms = forms.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    /// `text` with every form of the secret replaced by `[redacted]`.
    func redacted(_ text: String) -> String {
        forms.reduce(text) { text, form in text.replacingOccurrences(of: form, with: "[redacted]") }
    }

    /// `%2F` as `%2f`: percent-encoding's hex digits may come back in either case.
    private static func lowercasingEscapes(_ encoded: String) -> String {
        var result = ""
        var remainingHex = 0
        for character in encoded {
            if character == "%" {
                remainingHex = 2
                result.append(character)
            } else if remainingHex > 0 {
                remainingHex -= 1
                result.append(contentsOf: character.lowercased())
            } else {
                result.append(character)
            }
        }
        return result
    }
}
