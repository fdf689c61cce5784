import Accounts
import Foundation
import Hummingbird
import SpeechCore

/// `GET /key`, `GET /credits`, `GET /generation` and the management keys API, in OpenRouter's shapes.
struct AccountRoutes: Sendable {
    let store: AccountStore
    let defaultRateLimit: RateLimit?

    func currentKey(_ request: Request, context: SpeechContext) async throws -> Response {
        let key = try context.requireKey()
        let now = Date()
        var data = try await json(for: key, now: now)
        data["is_free_tier"] = .bool(false)
        data["is_provisioning_key"] = .bool(false)
        data["include_byok_in_limit"] = .bool(false)
        data["creator_user_id"] = .null
        for period in ["", "_daily", "_weekly", "_monthly"] { data["byok_usage" + period] = .number(0) }
        let limit = key.rateLimit ?? defaultRateLimit
        data["rate_limit"] = .object([
            "requests": .number(Double(limit?.requests ?? -1)),
            "interval": .string(limit.map { AuthMiddleware.seconds($0.interval).replacingOccurrences(of: " ", with: "") } ?? "-1"),
        ])
        return jsonResponse(.object(["data": .object(data)]))
    }

    func credits(_ request: Request, context: SpeechContext) async throws -> Response {
        try context.requireManagementKey()
        let (total, usage) = try await store.credits()
        return jsonResponse(.object([
            "data": .object([
                "total_credits": total.map { .number($0.usd) } ?? .null,
                "total_usage": .number(usage.usd),
            ])
        ]))
    }

    func generation(_ request: Request, context: SpeechContext) async throws -> Response {
        let key = try context.requireKey()
        guard let id = request.uri.queryParameters.get("id"), !id.isEmpty else {
            throw SpeechError.missingField("id")
        }
        // Another key's generation is as unknown as a missing one.
        guard let record = try await store.generation(id: id), record.keyHash == key.hash else {
            throw APIError(.notFound, "Generation not found", type: "not_found")
        }
        let milliseconds = { (end: Date?) -> JSONValue in
            end.map { .number(($0.timeIntervalSince(record.startedAt) * 1000).rounded()) } ?? .null
        }
        let finishReason: JSONValue =
            switch record.status {
            case .completed: .string("stop")
            case .cancelled: .string("cancelled")
            case .failed: .string("error")
            case .running: .null
            }
        return jsonResponse(.object([
            "data": .object([
                "id": .string(record.id), "upstream_id": .null, "model": .string(record.model),
                "provider_name": .string(record.provider), "api_type": .string("tts"),
                "created_at": .string(ISO8601DateFormatter().string(from: record.startedAt)),
                "total_cost": .number(record.cost.usd), "usage": .number(record.cost.usd),
                "cache_discount": .null, "upstream_inference_cost": .null,
                "tokens_prompt": .number(Double(record.characters)), "tokens_completion": .number(0),
                "native_tokens_prompt": .number(Double(record.spokenCharacters)), "native_tokens_completion": .number(0),
                "streamed": .bool(true), "cancelled": .bool(record.status == .cancelled),
                "status": .string(record.status.rawValue),
                "latency": milliseconds(record.firstByteAt), "generation_time": milliseconds(record.finishedAt),
                "moderation_latency": .null, "finish_reason": finishReason, "native_finish_reason": finishReason,
                "voice": .string(record.voice), "response_format": .string(record.format),
                "origin": .string(""), "is_byok": .bool(false), "app_id": .null, "external_user": .null,
            ])
        ]))
    }

    // MARK: Management keys API

    func listKeys(_ request: Request, context: SpeechContext) async throws -> Response {
        try context.requireManagementKey()
        let now = Date()
        var keys: [JSONValue] = []
        for key in try await store.listKeys() { keys.append(.object(try await json(for: key, now: now))) }
        return jsonResponse(.object(["data": .array(keys)]))
    }

    func createKey(_ request: Request, context: SpeechContext) async throws -> Response {
        try context.requireManagementKey()
        let body = try await KeyBody.parse(request)
        guard case .string(let name)? = body["name"], !name.isEmpty else {
            throw SpeechError.missingField("name")
        }
        let settings = KeySettings(
            name: name, limit: try KeyBody.limit(body) ?? nil, limitReset: try KeyBody.limitReset(body) ?? nil,
            expiresAt: try KeyBody.expiresAt(body), isManagement: false)
        let (key, secret) = try await store.createKey(settings)
        return jsonResponse(
            .object(["data": .object(try await json(for: key, now: Date())), "key": .string(secret.value)]),
            status: .created)
    }

    func showKey(_ request: Request, context: SpeechContext) async throws -> Response {
        try context.requireManagementKey()
        let key = try await requireKey(hash: context.parameters.require("hash"))
        return jsonResponse(.object(["data": .object(try await json(for: key, now: Date()))]))
    }

    func updateKey(_ request: Request, context: SpeechContext) async throws -> Response {
        try context.requireManagementKey()
        let hash = try context.parameters.require("hash")
        let body = try await KeyBody.parse(request)
        var name: String?
        switch body["name"] {
        case nil: break
        case .string(let value)? where !value.isEmpty: name = value
        default: throw SpeechError.invalidField(name: "name", reason: "must be a non-empty string")
        }
        var disabled: Bool?
        switch body["disabled"] {
        case nil: break
        case .bool(let value)?: disabled = value
        default: throw SpeechError.invalidField(name: "disabled", reason: "must be a boolean")
        }
        guard
            let key = try await store.updateKey(
                hash: hash, name: name, disabled: disabled, limit: try KeyBody.limit(body),
                limitReset: try KeyBody.limitReset(body))
        else { throw APIError(.notFound, "Key \(hash) not found", type: "not_found") }
        return jsonResponse(.object(["data": .object(try await json(for: key, now: Date()))]))
    }

    func deleteKey(_ request: Request, context: SpeechContext) async throws -> Response {
        try context.requireManagementKey()
        let hash = try context.parameters.require("hash")
        guard try await store.deleteKey(hash: hash) else {
            throw APIError(.notFound, "Key \(hash) not found", type: "not_found")
        }
        return jsonResponse(.object(["deleted": .bool(true)]))
    }

    private func requireKey(hash: String) async throws -> APIKey {
        guard let key = try await store.key(hash: hash) else {
            throw APIError(.notFound, "Key \(hash) not found", type: "not_found")
        }
        return key
    }

    private func json(for key: APIKey, now: Date) async throws -> [String: JSONValue] {
        let iso = ISO8601DateFormatter()
        var usage: [String: JSONValue] = [:]
        for (field, reset) in [("usage_daily", LimitReset.daily), ("usage_weekly", .weekly), ("usage_monthly", .monthly)] {
            usage[field] = .number(try await store.usage(keyHash: key.hash, since: reset.periodStart(containing: now)).usd)
        }
        return usage.merging([
            "hash": .string(key.hash), "name": .string(key.name), "label": .string(key.label),
            "disabled": .bool(key.disabled), "is_management_key": .bool(key.isManagement),
            "limit": key.limit.map { .number($0.usd) } ?? .null,
            "limit_remaining": key.limitRemaining.map { .number(max($0, .zero).usd) } ?? .null,
            "limit_reset": key.limitReset.map { .string($0.rawValue) } ?? .null,
            "usage": .number(key.usage.usd),
            "created_at": .string(iso.string(from: key.createdAt)),
            "updated_at": key.updatedAt.map { .string(iso.string(from: $0)) } ?? .null,
            "expires_at": key.expiresAt.map { .string(iso.string(from: $0)) } ?? .null,
        ]) { current, _ in current }
    }
}

/// The JSON body of key creation and updates, checked field by field.
enum KeyBody {
    static func parse(_ request: Request) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer)) else {
            throw SpeechError.malformedJSON("the body must be a JSON object")
        }
        return fields
    }

    /// nil: absent; `.some(nil)`: explicitly null (no limit).
    static func limit(_ body: [String: JSONValue]) throws -> Nanodollars?? {
        switch body["limit"] {
        case nil: return nil
        case .null?: return .some(nil)
        case .number(let usd)? where usd >= 0: return .some(Nanodollars(usd: usd))
        default: throw SpeechError.invalidField(name: "limit", reason: "must be a non-negative number of USD or null")
        }
    }

    static func limitReset(_ body: [String: JSONValue]) throws -> LimitReset?? {
        switch body["limit_reset"] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let value)?:
            guard let reset = LimitReset(rawValue: value) else { fallthrough }
            return .some(reset)
        default:
            throw SpeechError.invalidField(name: "limit_reset", reason: "must be one of daily, weekly, monthly, or null")
        }
    }

    static func expiresAt(_ body: [String: JSONValue]) throws -> Date? {
        switch body["expires_at"] {
        case nil, .null?: return nil
        case .string(let text)?:
            if let date = ISO8601DateFormatter().date(from: text) { return date }
            fallthrough
        default:
            throw SpeechError.invalidField(name: "expires_at", reason: "must be an ISO 8601 date-time")
        }
    }
}

extension SpeechContext {
    func requireKey() throws -> APIKey {
        guard let key else { throw SpeechError.missingKey }
        return key
    }

    @discardableResult
    func requireManagementKey() throws -> APIKey {
        let key = try requireKey()
        guard key.isManagement else {
            throw APIError(.forbidden, "Only management keys can perform this operation", type: "permission_denied")
        }
        return key
    }
}
