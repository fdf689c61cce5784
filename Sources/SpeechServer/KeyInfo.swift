import Accounts
import Foundation
import Hummingbird

/// What OpenRouter's account objects report that a self-hosted gateway has one answer for.
enum AccountScope {
    /// Keys belong to no OpenRouter workspace; the SDK requires a string, so every key names
    /// the gateway's single workspace.
    static let workspaceID = "default"
    /// Where requests are processed: on this gateway, in no particular OpenRouter region.
    static let dataRegion = "global"
}

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
    /// Bring-your-own-key usage: the gateway has none, so always 0.
    var byokUsage = 0.0
    var byokUsageDaily = 0.0
    var byokUsageWeekly = 0.0
    var byokUsageMonthly = 0.0
    var includeByokInLimit = false
    @Nullable var creatorUserID: String? = nil
    @Nullable var externalUser: String? = nil
    /// Not tracked: always null.
    @Nullable var lastUsedAt: String? = nil
    var workspaceID = AccountScope.workspaceID
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
        case byokUsage = "byok_usage"
        case byokUsageDaily = "byok_usage_daily"
        case byokUsageWeekly = "byok_usage_weekly"
        case byokUsageMonthly = "byok_usage_monthly"
        case includeByokInLimit = "include_byok_in_limit"
        case creatorUserID = "creator_user_id"
        case externalUser = "external_user"
        case lastUsedAt = "last_used_at"
        case workspaceID = "workspace_id"
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
        var note: String
    }

    /// OpenRouter's limit on requests to free models; the gateway has none (-1), and does not count them.
    struct FreeModelDailyRequests: Encodable, Sendable {
        var limit = -1
        var remaining = -1
        var used = 0
    }

    /// A spending limit in OpenRouter's budget shape; the gateway's only budget is the key's own limit.
    struct KeyBudget: Encodable, Sendable {
        @Nullable var budgetID: String? = nil
        @Nullable var guardrailID: String? = nil
        var includeByok = false
        var limitUSD: Double
        var remainingUSD: Double
        var spendUSD: Double
        @Nullable var resetInterval: String?
        @Nullable var resetsAt: String?
        var scope = "key_limit"

        enum CodingKeys: String, CodingKey {
            case scope
            case budgetID = "budget_id"
            case guardrailID = "guardrail_id"
            case includeByok = "include_byok"
            case limitUSD = "limit_usd"
            case remainingUSD = "remaining_usd"
            case spendUSD = "spend_usd"
            case resetInterval = "reset_interval"
            case resetsAt = "resets_at"
        }

        /// The key's limit, or nil when it has none.
        init?(_ key: APIKey, now: Date) {
            guard let limit = key.limit, let remaining = key.limitRemaining else { return nil }
            limitUSD = limit.usd
            remainingUSD = max(remaining, .zero).usd
            spendUSD = (key.periodUsage + key.reserved).usd
            resetInterval = key.limitReset?.rawValue
            resetsAt = key.limitReset.map { ISO8601DateFormatter().string(from: $0.nextPeriodStart(after: now)) }
        }
    }

    struct CurrentKeyFields: Encodable, Sendable {
        var isFreeTier = false
        var isProvisioningKey = false
        var allowedDataRegions = [AccountScope.dataRegion]
        var budgets: [KeyBudget]
        @Nullable var effectiveBudget: KeyBudget?
        var freeModelDailyRequests = FreeModelDailyRequests()
        @Nullable var organizationID: String? = nil
        var rateLimit: RateLimitInfo

        enum CodingKeys: String, CodingKey {
            case budgets
            case isFreeTier = "is_free_tier"
            case isProvisioningKey = "is_provisioning_key"
            case allowedDataRegions = "allowed_data_regions"
            case effectiveBudget = "effective_budget"
            case freeModelDailyRequests = "free_model_daily_requests"
            case organizationID = "organization_id"
            case rateLimit = "rate_limit"
        }
    }

    var key: KeyInfo
    var current: CurrentKeyFields

    init(_ key: APIKey, usage: PeriodUsage, rateLimit: RateLimit?, now: Date = Date()) {
        self.key = KeyInfo(key, usage: usage)
        let budget = KeyBudget(key, now: now)
        current = CurrentKeyFields(
            budgets: budget.map { [$0] } ?? [], effectiveBudget: budget,
            rateLimit: RateLimitInfo(
                requests: rateLimit?.requests ?? -1,
                interval: rateLimit.map { AuthMiddleware.seconds($0.interval).replacingOccurrences(of: " ", with: "") }
                    ?? "-1",
                note: rateLimit == nil
                    ? "This key has no request rate limit."
                    : "The gateway's own per-key limit, counted in fixed windows."))
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

/// `GET /credits`: what the account was given and what it has spent, in USD. OpenRouter's
/// `total_credits` is a number: 0 when the gateway has no credit total, which `unlimited` says.
struct Credits: Encodable, Sendable {
    var totalCredits: Double
    var totalUsage: Double
    var unlimited: Bool

    init(total: Nanodollars?, usage: Nanodollars) {
        totalCredits = total?.usd ?? 0
        totalUsage = usage.usd
        unlimited = total == nil
    }

    enum CodingKeys: String, CodingKey {
        case unlimited
        case totalCredits = "total_credits"
        case totalUsage = "total_usage"
    }
}
