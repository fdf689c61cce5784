import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SpeechCore

/// An upstream failure, classified the way PROVIDERS.md §6 maps them to gateway statuses.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The upstream says the request itself is wrong (400, 415, 422): another provider would say the same.
        case invalidRequest
        case moderation
        /// The gateway's upstream key was refused (401/403): the client's key is fine.
        case credentials
        case rateLimited
        /// 5xx, or quota exhausted.
        case unavailable
        case timeout
        case unreachable
        /// A 2xx whose body is not what the contract says (bad base64, truncated, wrong JSON).
        case malformed
    }

    public var kind: Kind
    public var provider: String
    public var message: String
    public var upstreamStatus: Int?
    /// The upstream's body, truncated, with our upstream credential removed.
    public var raw: String?
    public var retryAfter: String?

    public init(
        _ kind: Kind, provider: String, message: String, upstreamStatus: Int? = nil, raw: String? = nil,
        retryAfter: String? = nil
    ) {
        self.kind = kind
        self.provider = provider
        self.message = message
        self.upstreamStatus = upstreamStatus
        self.raw = raw
        self.retryAfter = retryAfter
    }

    /// Whether the model's next endpoint may be tried: not when the request itself was refused.
    public var allowsFallback: Bool {
        switch kind {
        case .invalidRequest, .moderation: false
        default: true
        }
    }

    public var description: String { "\(provider): \(message)" }

    static let rawLimit = 1_000

    /// This error with every form of `secret` removed from what it says.
    func redacting(_ secret: UpstreamSecret) -> ProviderError {
        var error = self
        error.message = secret.redacted(message)
        error.raw = raw.map(secret.redacted)
        error.retryAfter = retryAfter.map(secret.redacted)
        return error
    }

    /// Classifies a non-2xx answer; `body` is kept truncated, so it must have been redacted
    /// whole before (a cut could leave part of a secret that no longer matches).
    static func from(
        status: Int, body: String, headers: HTTPHeaders, provider: String, message: String
    ) -> ProviderError {
        var raw = body
        if raw.count > rawLimit { raw = String(raw.prefix(rawLimit)) + "…" }
        let kind: Kind
        switch status {
        case 401, 403: kind = provider == "Mistral" && status == 403 ? .moderation : .credentials
        case 429: kind = .rateLimited
        case 408, 504: kind = .timeout
        case 400..<500: kind = .invalidRequest
        // A 3xx is an answer too: redirects are not followed, as they would take our key along.
        default: kind = .unavailable
        }
        return ProviderError(
            kind, provider: provider, message: message, upstreamStatus: status, raw: raw.isEmpty ? nil : raw,
            retryAfter: headers.first(name: "retry-after"))
    }

    static func from(transport error: any Error, provider: String) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout, .deadlineExceeded, .connectTimeout:
                return ProviderError(.timeout, provider: provider, message: "\(provider) did not answer in time")
            case .remoteConnectionClosed:
                return ProviderError(.malformed, provider: provider, message: "\(provider) closed the connection mid-response")
            default: break
            }
        }
        if error is ChannelError || error is IOError {
            return ProviderError(.unreachable, provider: provider, message: "\(provider) could not be reached")
        }
        return ProviderError(.unreachable, provider: provider, message: "\(provider) request failed: \(type(of: error))")
    }
}

/// Reads an upstream error body's most useful message: `error.message`, `message`,
/// `detail.message`, `detail` (string or validation list), else the text itself.
func upstreamMessage(_ body: String) -> String? {
    guard let data = body.data(using: .utf8), let json = try? JSONDecoder().decode(JSONValue.self, from: data),
        case .object(let root) = json
    else {
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : String(trimmed.prefix(300))
    }
    if case .object(let error)? = root["error"], case .string(let message)? = error["message"] { return message }
    if case .string(let message)? = root["message"] { return message }
    switch root["detail"] {
    case .string(let message)?: return message
    case .object(let detail)?:
        if case .string(let message)? = detail["message"] { return message }
    case .array(let items)?:
        let messages = items.compactMap { item -> String? in
            if case .object(let fields) = item, case .string(let message)? = fields["msg"] { return message }
            return nil
        }
        if !messages.isEmpty { return messages.joined(separator: "; ") }
    default: break
    }
    return nil
}
