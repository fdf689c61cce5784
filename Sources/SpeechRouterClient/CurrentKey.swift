/// The calling key's limit and usage (`GET /key`); amounts in USD.
public struct CurrentKey: Sendable, Hashable, Decodable {
    /// A recognisable, non-secret form of the key.
    public var label: String
    /// nil: no limit.
    public var limit: Double?
    public var limitRemaining: Double?
    /// `daily`, `weekly` or `monthly` when the limit starts over; nil when it never does.
    public var limitReset: String?
    public var usage: Double
    public var usageDaily: Double?
    public var usageWeekly: Double?
    public var usageMonthly: Double?
    public var isFreeTier: Bool?
    public var isManagementKey: Bool
    /// ISO 8601; nil when the key does not expire.
    public var expiresAt: String?

    private enum CodingKeys: String, CodingKey {
        case label, limit, usage
        case limitRemaining = "limit_remaining"
        case limitReset = "limit_reset"
        case usageDaily = "usage_daily"
        case usageWeekly = "usage_weekly"
        case usageMonthly = "usage_monthly"
        case isFreeTier = "is_free_tier"
        case isManagementKey = "is_management_key"
        case expiresAt = "expires_at"
    }
}
