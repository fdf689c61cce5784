import Accounts
import Foundation
import Hummingbird
import NIOCore
import SpeechCore
import NIOFoundationEssentialsCompat

/// `GET /key`, `GET /credits`, `GET /generation` and the management keys API, in OpenRouter's shapes.
struct AccountRoutes: Sendable {
    let store: AccountStore
    let defaultRateLimit: RateLimit?

    func currentKey(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<CurrentKeyInfo> {
        let key = try context.requireKey()
        return DataEnvelope(
            data: CurrentKeyInfo(
                key, usage: try await store.periodUsage(keyHash: key.hash), rateLimit: key.rateLimit ?? defaultRateLimit))
    }

    func credits(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<Credits> {
        try context.requireManagementKey()
        let (total, usage) = try await store.credits()
        return DataEnvelope(data: Credits(total: total, usage: usage))
    }

    func generation(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<GenerationInfo> {
        let key = try context.requireKey()
        guard let id = request.uri.queryParameters.get("id"), !id.isEmpty else {
            throw SpeechError.missingField("id")
        }
        // Another key's generation is as unknown as a missing one.
        guard let record = try await store.generation(id: id), record.keyHash == key.hash else {
            throw APIError(.notFound, "Generation not found", type: "not_found")
        }
        return DataEnvelope(data: GenerationInfo(record))
    }

    /// The most generations `GET /generations` lists at once, and how many without `limit`.
    static let generationsLimit = 1...200
    static let defaultGenerationsLimit = 50

    func recentGenerations(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<[RecentGeneration]> {
        try context.requireManagementKey()
        var limit = Self.defaultGenerationsLimit
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), Self.generationsLimit.contains(value) else {
                throw SpeechError.invalidField(
                    name: "limit",
                    reason: "must be an integer from \(Self.generationsLimit.lowerBound) to \(Self.generationsLimit.upperBound)")
            }
            limit = value
        }
        return DataEnvelope(data: try await store.recentGenerations(limit: limit).map(RecentGeneration.init))
    }

    // MARK: Management keys API

    func listKeys(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<[KeyInfo]> {
        try context.requireManagementKey()
        let usage = try await store.periodUsage()
        return DataEnvelope(data: try await store.listKeys().map { KeyInfo($0, usage: usage[$0.hash] ?? PeriodUsage()) })
    }

    func createKey(_ request: Request, context: SpeechContext) async throws -> EditedResponse<CreatedKey> {
        try context.requireManagementKey()
        let body = try await KeyBody.parse(request)
        guard case .string(let name)? = body["name"], !name.isEmpty else {
            throw SpeechError.missingField("name")
        }
        let settings = KeySettings(
            name: name, limit: try KeyBody.limit(body) ?? nil, limitReset: try KeyBody.limitReset(body) ?? nil,
            expiresAt: try KeyBody.expiresAt(body), isManagement: false)
        let (key, secret) = try await store.createKey(settings)
        return EditedResponse(
            status: .created, response: CreatedKey(data: try await info(for: key), key: secret.value))
    }

    func showKey(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<KeyInfo> {
        try context.requireManagementKey()
        let key = try await requireKey(hash: context.parameters.require("hash"))
        return DataEnvelope(data: try await info(for: key))
    }

    func updateKey(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<KeyInfo> {
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
        return DataEnvelope(data: try await info(for: key))
    }

    func deleteKey(_ request: Request, context: SpeechContext) async throws -> KeyDeletion {
        try context.requireManagementKey()
        let hash = try context.parameters.require("hash")
        guard try await store.deleteKey(hash: hash) else {
            throw APIError(.notFound, "Key \(hash) not found", type: "not_found")
        }
        return KeyDeletion()
    }

    private func requireKey(hash: String) async throws -> APIKey {
        guard let key = try await store.key(hash: hash) else {
            throw APIError(.notFound, "Key \(hash) not found", type: "not_found")
        }
        return key
    }

    private func info(for key: APIKey) async throws -> KeyInfo {
        KeyInfo(key, usage: try await store.periodUsage(keyHash: key.hash))
    }
}

/// The JSON body of key creation and updates, checked field by field.
enum KeyBody {
    static let maxBodyBytes = 64 * 1024

    static func parse(_ request: Request) async throws -> [String: JSONValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw SpeechError.bodyTooLarge(limit: maxBodyBytes)
        }
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
        case .number(let usd)?:
            guard let limit = Nanodollars(usd: usd) else {
                throw SpeechError.invalidField(name: "limit", reason: "\(Nanodollars.requirement) or null, not \(usd)")
            }
            return .some(limit)
        default: throw SpeechError.invalidField(name: "limit", reason: "must be a number of USD or null")
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
