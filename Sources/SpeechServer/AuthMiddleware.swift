import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import SpeechCore

/// Requires `Authorization: Bearer <key>`, puts the key on the context, and counts the request
/// against the key's rate limit (its own, else the gateway's default).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SpeechContext
    let store: AccountStore
    let defaultRateLimit: RateLimit?

    func handle(_ request: Request, context: SpeechContext, next: (Request, SpeechContext) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization] else { throw SpeechError.missingKey }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw SpeechError.missingKey }
        let secret = KeySecret(parts[1].trimmingCharacters(in: .whitespaces))
        let key: APIKey
        switch try await store.authenticate(secret) {
        case .valid(let valid): key = valid
        case .unknown: throw SpeechError.invalidKey
        case .disabled: throw APIError(.unauthorized, "API key is disabled", type: "authentication")
        case .expired: throw APIError(.unauthorized, "API key has expired", type: "authentication")
        }
        context.summary.authenticated(as: key)
        var headers: HTTPFields = [:]
        if let limit = key.rateLimit ?? defaultRateLimit {
            let decision = try await store.countRequest(keyHash: key.hash, limit: limit)
            headers[.rateLimitLimit] = String(decision.limit)
            headers[.rateLimitRemaining] = String(decision.remaining)
            headers[.rateLimitReset] = String(Int64(decision.resetAt.timeIntervalSince1970 * 1000))
            if !decision.allowed {
                let wait = max(Int((decision.resetAt.timeIntervalSinceNow).rounded(.up)), 1)
                headers[.retryAfter] = String(wait)
                throw APIError(
                    .tooManyRequests,
                    "Rate limit exceeded: \(decision.limit) requests per \(Self.seconds(limit.interval)); retry in \(wait) s",
                    type: "rate_limit_exceeded", metadata: ["retry_after_seconds": .number(Double(wait))],
                    headers: headers)
            }
        }
        var context = context
        context.key = key
        var response = try await next(request, context)
        response.headers.append(contentsOf: headers)
        return response
    }

    static func seconds(_ interval: Double) -> String {
        interval == interval.rounded() ? "\(Int(interval)) s" : "\(interval) s"
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("X-RateLimit-Limit")!
    static let rateLimitRemaining = Self("X-RateLimit-Remaining")!
    static let rateLimitReset = Self("X-RateLimit-Reset")!
}
