import AsyncHTTPClient
import Foundation
import NIOCore
public import SpeechCore
import NIOHTTP1

/// Azure AI Speech (MAI-Voice included): SSML in, raw audio out. The SSML is built here from
/// escaped text only, so user input can never become markup.
public struct AzureProvider: SpeechProvider {
    public let slug = "azure"
    public let name = "Azure"
    public let speedRange: ClosedRange<Double>? = 0.5...2.0
    public let maxInputCharacters = 5_000
    public let passthroughFormats: Set<AudioFormat> = [.mp3]
    /// The synthesis URL as its base.
    let account: UpstreamAccount

    /// `endpoint` is a resource URL (`https://x.cognitiveservices.azure.com`) or a full
    /// synthesis URL; without one, `region` gives `https://{region}.tts.speech.microsoft.com`.
    public init(apiKey: String, region: String?, endpoint: String?, client: UpstreamClient) {
        let url: String
        if let endpoint, !endpoint.isEmpty {
            let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            url = base.hasSuffix("/cognitiveservices/v1") ? base : base + "/tts/cognitiveservices/v1"
        } else {
            url = "https://\(region ?? "eastus").tts.speech.microsoft.com/cognitiveservices/v1"
        }
        account = UpstreamAccount(baseURL: url, apiKey: apiKey, client: client)
    }

    public func synthesize(_ request: UpstreamRequest) async throws -> UpstreamStream {
        var http = HTTPClientRequest(url: account.baseURL)
        http.method = .POST
        http.headers.add(name: "Ocp-Apim-Subscription-Key", value: account.apiKey)
        http.headers.add(name: "Content-Type", value: "application/ssml+xml")
        http.headers.add(
            name: "X-Microsoft-OutputFormat",
            value: request.format == .mp3 ? "audio-24khz-48kbitrate-mono-mp3" : "raw-24khz-16bit-mono-pcm")
        http.headers.add(name: "User-Agent", value: "SpeechRouter")
        http.body = .bytes(ByteBuffer(string: Self.ssml(for: request)))
        let format = request.format
        return try await account.send(http, provider: name) { _ in
            format == .mp3 ? EncodedPassthrough() as any BodyDecoder : PCM16Decoder(rate: 24_000)
        }
    }

    /// `<speak>` → `<voice>` → optional `<mstts:express-as>` → optional `<prosody>` → text.
    static func ssml(for request: UpstreamRequest) -> String {
        let voice = request.voice
        let language = voice.split(separator: "-").prefix(2).joined(separator: "-")
        var inner = xmlEscaped(request.input)
        if let speed = request.speed, speed != 1 {
            let percent = Int(((speed - 1) * 100).rounded())
            inner = "<prosody rate=\"\(percent >= 0 ? "+" : "")\(percent)%\">\(inner)</prosody>"
        }
        if case .string(let style)? = request.options["style"], !style.isEmpty {
            var attributes = "style=\"\(xmlEscaped(style))\""
            switch request.options["styledegree"] {
            case .number(let degree)?: attributes += " styledegree=\"\(min(max(degree, 0.01), 2))\""
            case .string(let text)?:
                // "nan" or "inf" parse as numbers; Azure takes 0.01 to 2.
                if let degree = Double(text), degree.isFinite {
                    attributes += " styledegree=\"\(min(max(degree, 0.01), 2))\""
                }
            default: break
            }
            inner = "<mstts:express-as \(attributes)>\(inner)</mstts:express-as>"
        }
        return """
            <speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" \
            xmlns:mstts="http://www.w3.org/2001/mstts" xml:lang="\(xmlEscaped(language))">\
            <voice name="\(xmlEscaped(voice))">\(inner)</voice></speak>
            """
    }
}

func xmlEscaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&apos;"
        default:
            // Characters XML 1.0 forbids (most C0 controls) are dropped rather than sent.
            if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r" { continue }
            result.unicodeScalars.append(scalar)
        }
    }
    return result
}
