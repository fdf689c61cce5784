import Accounts
import Foundation
import Hummingbird

/// A key as the management keys API shows it (`data` of `GET /keys/{hash}`, items of `GET /keys`).
struct KeyInfo: Encodable, Sendable {
    var hash: String
    var name: String
    var label: String
    var disabled: Bool
    var isManagementKey: Bool
    @Nullable var limit: Double?
    @Nullable var limitRemaining: Double?
    @Nullable var limitReset: String?
    var usage: Double
    var usageDaily: Double
    var usageWeekly: Double
    var usageMonthly: Double
    var createdAt: String
    @Nullable var updatedAt: String?
    @Nullable var expiresAt: String?

    enum CodingKeys: String, CodingKey {
        case hash, name, label, disabled, limit, usage
        case isManagementKey = "is_management_key"
        case limitRemaining = "limit_remaining"
        case limitReset = "limit_reset"
        case usageDaily = "usage_daily"
        case usageWeekly = "usage_weekly"
        case usageMonthly = "usage_monthly"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case expiresAt = "expires_at"
    }

    init(_ key: APIKey, usage: PeriodUsage) {
        let iso = ISO8601DateFormatter()
        hash = key.hash
        name = key.name
        label = key.label
        disabled = key.disabled
        isManagementKey = key.isManagement
        limit = key.limit?.usd
        limitRemaining = key.limitRemaining.map { max($0, .zero).usd }
        limitReset = key.limitReset?.rawValue
        self.usage = key.usage.usd
        usageDaily = usage.daily.usd
        usageWeekly = usage.weekly.usd
        usageMonthly = usage.monthly.usd
        createdAt = iso.string(from: key.createdAt)
        updatedAt = key.updatedAt.map(iso.string(from:))
        expiresAt = key.expiresAt.map(iso.string(from:))
    }
}

/// `GET /key`: the calling key's `KeyInfo` fields and, in the same object, those OpenRouter
/// adds for the current key.
struct CurrentKeyInfo: Encodable, Sendable {
    struct RateLimitInfo: Encodable, Sendable {
        /// -1 when the key has no limit.
        var requests: Int
        /// `"60s"`, or `"-1"` when the key has no limit.
        var interval: String
    }

    struct CurrentKeyFields: Encodable, Sendable {
        var isFreeTier = false
        var isProvisioningKey = false
        var includeByokInLimit = false
        @Nullable var creatorUserID: String? = nil
        var byokUsage = 0.0
        var byokUsageDaily = 0.0
        var byokUsageWeekly = 0.0
        var byokUsageMonthly = 0.0
        var rateLimit: RateLimitInfo

        enum CodingKeys: String, CodingKey {
            case isFreeTier = "is_free_tier"
            case isProvisioningKey = "is_provisioning_key"
            case includeByokInLimit = "include_byok_in_limit"
            case creatorUserID = "creator_user_id"
            case byokUsage = "byok_usage"
            case byokUsageDaily = "byok_usage_daily"
            case byokUsageWeekly = "byok_usage_weekly"
            case byokUsageMonthly = "byok_usage_monthly"
            case rateLimit = "rate_limit"
        }
    }

    var key: KeyInfo
    var current: CurrentKeyFields

    init(_ key: KeyInfo, rateLimit: RateLimit?) {
        self.key = key
        current = CurrentKeyFields(
            rateLimit: RateLimitInfo(
                requests: rateLimit?.requests ?? -1,
                interval: rateLimit.map { AuthMiddleware.seconds($0.interval).replacingOccurrences(of: " ", with: "") }
                    ?? "-1"))
    }

    /// Both parts write into one keyed container, so the object is flat.
    func encode(to encoder: any Encoder) throws {
        try key.encode(to: encoder)
        try current.encode(to: encoder)
    }
}

/// `POST /keys`: the new key, and its secret, shown this once.
struct CreatedKey: ResponseEncodable, Sendable {
    var data: KeyInfo
    var key: String
}

/// `DELETE /keys/{hash}`.
struct KeyDeletion: ResponseEncodable, Sendable {
    var deleted = true
}

/// `GET /credits`: what the account was given and what it has spent, in USD.
struct Credits: Encodable, Sendable {
    @Nullable var totalCredits: Double?
    var totalUsage: Double

    enum CodingKeys: String, CodingKey {
        case totalCredits = "total_credits"
        case totalUsage = "total_usage"
    }
}
