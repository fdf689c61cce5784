import Accounts
import Providers
import Foundation
public import Hummingbird
public import SpeechCore

/// An error as the client receives it: OpenRouter's `{"error":{"code","message","metadata"}}`
/// with the HTTP status equal to `code`.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var message: String
    public var metadata: [String: JSONValue]
    public var headers: HTTPFields
    /// OpenRouter's `error.availability`, for an error about which endpoint could serve.
    public var availability: JSONValue?

    public init(
        _ status: HTTPResponse.Status, _ message: String, type: String,
        metadata: [String: JSONValue] = [:], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.message = message
        self.metadata = metadata.merging(["error_type": .string(type)]) { current, _ in current }
        self.headers = headers
    }

    /// OpenRouter's error object, the body of every error response, with OpenAI's `type` and
    /// `param` beside it so that the OpenAI SDK's `e.type` and `e.param` are set too.
    struct Body: Encodable {
        struct Detail: Encodable {
            var code: Int
            var message: String
            var metadata: [String: JSONValue]
            var type: String
            @Nullable var param: String?
            var availability: JSONValue?
        }

        var error: Detail
    }

    var body: Body {
        var param: String?
        if case .string(let name)? = metadata["param"] { param = name }
        return Body(
            error: .init(
                code: status.code, message: message, metadata: metadata, type: openAIType, param: param,
                availability: availability))
    }

    /// OpenAI's error `type` for this status.
    var openAIType: String {
        switch status.code {
        case 401: "authentication_error"
        case 402: "insufficient_quota"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 408, 504: "timeout_error"
        case 429: "rate_limit_error"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    func response() -> Response {
        do {
            return try JSONResponseEncoder.response(body, status: status, headers: headers)
        } catch {
            // Only a non-finite number in the metadata fails to encode; the status still stands.
            return Response(status: status, headers: headers)
        }
    }
}

extension APIError {
    /// The one place where domain errors become HTTP statuses and messages (also used by the
    /// command line, so in-process errors read as the server's do).
    public init(_ error: SpeechError) {
        switch error {
        case .malformedJSON(let detail):
            self.init(.badRequest, "Malformed JSON body: \(detail)", type: "invalid_request")
        case .missingField(let name):
            self.init(.badRequest, "Missing required field '\(name)'", type: "invalid_request",
                      metadata: ["param": .string(name)])
        case .invalidField(let name, let reason):
            self.init(.badRequest, "Invalid '\(name)': \(reason)", type: "invalid_request",
                      metadata: ["param": .string(name)])
        case .unsupportedFormat(let format):
            let allowed = AudioFormat.allCases.map(\.rawValue)
            self.init(
                .badRequest,
                "Invalid 'response_format': '\(format)' is not supported; allowed values: \(allowed.joined(separator: ", "))",
                type: "invalid_request",
                metadata: ["param": .string("response_format"), "allowed": .array(allowed.map(JSONValue.string))])
        case .unknownModel(let model):
            self.init(.badRequest, "Model \(model) does not exist", type: "invalid_request",
                      metadata: ["param": .string("model")])
        case .unknownVoice(let model, let voice, let available):
            self.init(
                .badRequest,
                "Voice '\(voice)' is not available for \(model); available voices: \(available.joined(separator: ", "))",
                type: "invalid_request",
                metadata: ["param": .string("voice"), "allowed": .array(available.map(JSONValue.string))])
        case .inputTooLong(let model, let limit, let actual):
            self.init(
                .badRequest,
                "Input is \(actual) characters; \(model) accepts at most \(limit) characters",
                type: "string_too_long", metadata: ["param": .string("input"), "limit": .number(Double(limit))])
        case .unspeakableInput(let model):
            self.init(.badRequest, "Input has nothing \(model) can speak", type: "invalid_request",
                      metadata: ["param": .string("input")])
        case .bodyTooLarge(let limit):
            self.init(.contentTooLarge, "Request body exceeds the limit of \(limit) bytes", type: "payload_too_large")
        case .missingKey:
            self.init(.unauthorized, "Missing Authentication header", type: "authentication")
        case .invalidKey:
            self.init(.unauthorized, "Invalid API key", type: "authentication")
        case .engineFailure(let detail):
            self.init(.internalServerError, "Speech synthesis failed: \(detail)", type: "server")
        }
    }
}

extension APIError {
    init(_ error: BillingError) {
        let message: String
        let metadata: [String: JSONValue]
        switch error {
        case .keyLimitExceeded(let cost, let remaining):
            let left = max(remaining, .zero)
            message = "Key limit exceeded: this request costs \(cost) and the key has \(left) of its limit left"
            metadata = ["cost": .number(cost.usd), "limit_remaining": .number(left.usd)]
        case .insufficientCredits(let cost, let remaining):
            let left = max(remaining, .zero)
            message = "Insufficient credits: this request costs \(cost) and \(left) of credits are left"
            metadata = ["cost": .number(cost.usd), "credits_remaining": .number(left.usd)]
        }
        self.init(
            HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), message, type: "payment_required",
            metadata: metadata)
    }
}

extension APIError {
    /// PROVIDERS.md §6: the request's own fault stays 400/403; a refused upstream credential,
    /// an upstream failure or a malformed answer is 502; rate limits are 429 with the
    /// upstream's Retry-After; timeouts 408; no provider at all 503.
    init(_ error: ProviderError) {
        var metadata: [String: JSONValue] = ["provider_name": .string(error.provider)]
        if let raw = error.raw { metadata["raw"] = .string(raw) }
        if let status = error.upstreamStatus { metadata["provider_code"] = .number(Double(status)) }
        var headers: HTTPFields = [:]
        switch error.kind {
        case .invalidRequest:
            self.init(.badRequest, error.message, type: "invalid_request", metadata: metadata)
        case .moderation:
            self.init(.forbidden, error.message, type: "content_policy_violation", metadata: metadata)
        case .credentials:
            self.init(.badGateway, "Provider returned error: \(error.message)", type: "provider_unavailable", metadata: metadata)
        case .rateLimited:
            if let retryAfter = error.retryAfter { headers[.retryAfter] = retryAfter }
            self.init(.tooManyRequests, error.message, type: "rate_limit_exceeded", metadata: metadata, headers: headers)
        case .timeout:
            self.init(.requestTimeout, error.message, type: "timeout", metadata: metadata)
        case .unavailable where error.upstreamStatus == nil:
            self.init(.serviceUnavailable, error.message, type: "provider_overloaded", metadata: metadata)
        case .unavailable, .unreachable, .malformed:
            self.init(.badGateway, "Provider returned error: \(error.message)", type: "provider_unavailable", metadata: metadata)
        }
    }
}

extension APIError {
    /// A stream not admitted: 503 when the model's engine is at its capacity, 429 when the key
    /// has as many streams open as it may; both with `Retry-After`.
    init(_ refusal: StreamAdmission.Refusal) {
        let wait = StreamAdmission.retryAfterSeconds
        let headers: HTTPFields = [.retryAfter: String(wait)]
        switch refusal {
        case .engineFull(let model, let streams):
            self.init(
                .serviceUnavailable,
                "\(model) is serving as many streams as it can keep in real time (\(streams)); retry in \(wait) s",
                type: "server_overloaded",
                metadata: ["model": .string(model), "max_streams": .number(Double(streams)), "retry_after_seconds": .number(Double(wait))],
                headers: headers)
        case .keyFull(let limit):
            self.init(
                .tooManyRequests,
                "Concurrent stream limit exceeded: this key may have \(limit) speech streams open at once; retry in \(wait) s",
                type: "rate_limit_exceeded",
                metadata: ["max_streams_per_key": .number(Double(limit)), "retry_after_seconds": .number(Double(wait))],
                headers: headers)
        }
    }
}
