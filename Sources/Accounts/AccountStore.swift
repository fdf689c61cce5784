public import Foundation
public import Logging
public import ServiceLifecycle

/// Why a request may not spend.
public enum BillingError: Error, Sendable, Equatable {
    case keyLimitExceeded(cost: Nanodollars, remaining: Nanodollars)
    case insufficientCredits(cost: Nanodollars, remaining: Nanodollars)
}

/// How a presented secret fared.
public enum Authentication: Sendable, Equatable {
    case valid(APIKey)
    case unknown
    case disabled
    case expired
}

/// The outcome of counting one request against a key's rate limit.
public struct RateDecision: Sendable, Equatable {
    public var allowed: Bool
    public var limit: Int
    public var remaining: Int
    public var resetAt: Date
}

/// Keys, generations, credits and rate windows, on SQLite or PostgreSQL (the same statements).
///
/// Spending never exceeds a limit: before synthesis, a request reserves its full cost with a
/// conditional `UPDATE … WHERE used + reserved + cost <= limit`, in one transaction with its
/// generation row; when it ends, the reservation becomes the charge for what was spoken. The
/// conditional update is atomic on SQLite (one writer) and row-locked on PostgreSQL, so
/// concurrent requests, from one instance or many, cannot both take the last of a limit.
public final class AccountStore: Service, Sendable {
    let database: any SQLDatabase
    /// Names this process in the generations it runs, so a restart fails only its own leftovers.
    public let instance: String

    public init(database: any SQLDatabase, instance: String) {
        self.database = database
        self.instance = instance
    }

    /// SQLite in `dataDirectory`, or PostgreSQL when `databaseURL` is a postgres:// URL, ready
    /// to use until `close()` (for one-shot commands and tests). Migrations are applied before it
    /// returns.
    public static func open(databaseURL: String?, dataDirectory: String, instance: String, logger: Logger)
        async throws -> AccountStore
    {
        let database: any SQLDatabase
        if let databaseURL, !databaseURL.isEmpty {
            database = try await PostgresDatabase.connect(url: databaseURL, logger: logger)
        } else {
            database = try await SQLiteDatabase.open(path: sqlitePath(in: dataDirectory), logger: logger)
        }
        let store = AccountStore(database: database, instance: instance)
        try await store.migrate()
        return store
    }

    /// The same store for a server: its database works while `run()` runs as a service, and
    /// `migrate()` is the first thing to call then.
    public static func service(databaseURL: String?, dataDirectory: String, instance: String, logger: Logger)
        async throws -> AccountStore
    {
        let database: any SQLDatabase
        if let databaseURL, !databaseURL.isEmpty {
            database = try PostgresDatabase.make(url: databaseURL, logger: logger)
        } else {
            database = try await SQLiteDatabase.open(path: sqlitePath(in: dataDirectory), logger: logger)
        }
        return AccountStore(database: database, instance: instance)
    }

    private static func sqlitePath(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("speechrouter.sqlite")
    }

    /// Applies the schema versions this database does not have yet, after checking that it
    /// can be reached at all (a wrong host, password or `sslmode` fails here, by its cause).
    public func migrate(now: Date = Date()) async throws {
        try await database.probe()
        try await Migrations.apply(to: database, now: now)
    }

    /// Runs the database until graceful shutdown, then closes it.
    public func run() async throws { try await database.run() }

    public func close() async throws { try await database.close() }

    // MARK: Keys

    public func createKey(_ settings: KeySettings, now: Date = Date()) async throws -> (APIKey, KeySecret) {
        let secret = KeySecret.generate()
        try await database.query(
            """
            INSERT INTO api_keys (hash, name, label, created_at, disabled, is_management, limit_nanos, limit_reset,
                expires_at, rate_limit_requests, rate_limit_interval, period_start, max_streams)
            VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10, $11, $12)
            """,
            [
                .text(secret.hash), .text(settings.name), .text(secret.label), .double(now.timeIntervalSince1970),
                .integer(settings.isManagement ? 1 : 0), settings.limit.map { .integer($0.value) } ?? .null,
                settings.limitReset.map { .text($0.rawValue) } ?? .null,
                settings.expiresAt.map { .double($0.timeIntervalSince1970) } ?? .null,
                settings.rateLimit.map { .integer(Int64($0.requests)) } ?? .null,
                settings.rateLimit.map { .double($0.interval) } ?? .null,
                .double((settings.limitReset?.periodStart(containing: now) ?? now).timeIntervalSince1970),
                settings.maxStreams.map { .integer(Int64($0)) } ?? .null,
            ])
        return (try await key(hash: secret.hash)!, secret)
    }

    public func authenticate(_ secret: KeySecret, now: Date = Date()) async throws -> Authentication {
        let hash = secret.hash
        guard let key = try await key(hash: hash), KeySecret.constantTimeEquals(key.hash, hash) else { return .unknown }
        if key.disabled { return .disabled }
        if key.isExpired(at: now) { return .expired }
        return .valid(key)
    }

    public func key(hash: String) async throws -> APIKey? {
        try await database.read("SELECT * FROM api_keys WHERE hash = $1", [.text(hash)]).first.map {
            try Self.key(from: $0)
        }
    }

    public func listKeys() async throws -> [APIKey] {
        try await database.query("SELECT * FROM api_keys ORDER BY created_at", []).map { try Self.key(from: $0) }
    }

    /// Changes the given fields; nil leaves a field as it is, `.some(nil)` clears it.
    public func updateKey(
        hash: String, name: String? = nil, disabled: Bool? = nil, limit: Nanodollars?? = nil,
        limitReset: LimitReset?? = nil, now: Date = Date()
    ) async throws -> APIKey? {
        var sets: [String] = ["updated_at = $2"]
        var binds: [SQLValue] = [.text(hash), .double(now.timeIntervalSince1970)]
        func set(_ column: String, _ value: SQLValue) {
            binds.append(value)
            sets.append("\(column) = $\(binds.count)")
        }
        if let name { set("name", .text(name)) }
        if let disabled { set("disabled", .integer(disabled ? 1 : 0)) }
        if let limit { set("limit_nanos", limit.map { .integer($0.value) } ?? .null) }
        if let limitReset { set("limit_reset", limitReset.map { .text($0.rawValue) } ?? .null) }
        let rows = try await database.query(
            "UPDATE api_keys SET \(sets.joined(separator: ", ")) WHERE hash = $1 RETURNING *", binds)
        return try rows.first.map { try Self.key(from: $0) }
    }

    public func deleteKey(hash: String) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.query("DELETE FROM key_usage WHERE key_hash = $1", [.text(hash)])
            return !(try await connection.query("DELETE FROM api_keys WHERE hash = $1 RETURNING hash", [.text(hash)]).isEmpty)
        }
    }

    /// What the key was charged in the current day, week and month (UTC), from its counters.
    public func periodUsage(keyHash: String, now: Date = Date()) async throws -> PeriodUsage {
        let rows = try await database.query("SELECT * FROM key_usage WHERE key_hash = $1", [.text(keyHash)])
        return try PeriodUsage.byKey(rows, now: now)[keyHash] ?? PeriodUsage()
    }

    /// `periodUsage(keyHash:now:)` of every key that was ever charged, by key hash.
    public func periodUsage(now: Date = Date()) async throws -> [String: PeriodUsage] {
        try PeriodUsage.byKey(try await database.query("SELECT * FROM key_usage", []), now: now)
    }

    // MARK: Credits

    /// Total credits (nil: unlimited) and total usage of the whole gateway.
    public func credits() async throws -> (total: Nanodollars?, usage: Nanodollars) {
        guard let row = try await database.query("SELECT total_credits_nanos, used_nanos FROM account WHERE id = 1", []).first
        else { throw SQLRowError.missing(column: "account") }
        return (try row.optionalInteger("total_credits_nanos").map(Nanodollars.init), Nanodollars(try row.integer("used_nanos")))
    }

    public func setCredits(_ total: Nanodollars?) async throws {
        try await database.query(
            "UPDATE account SET total_credits_nanos = $1 WHERE id = 1", [total.map { .integer($0.value) } ?? .null])
    }

    // MARK: Generations

    /// Reserves the generation's full cost (or `reservation`, when it may fall back to a dearer
    /// model) against its key's limit and the account's credits and records it as running, all
    /// or nothing.
    public func begin(_ record: GenerationRecord, reserving reservation: Nanodollars? = nil, now: Date = Date())
        async throws
    {
        let cost = max(reservation ?? record.fullCost, record.fullCost)
        let instance = self.instance
        try await database.transaction { connection in
            // A new limit period starts from zero (one statement for the three kinds of reset).
            let starts = [LimitReset.daily, .weekly, .monthly].map {
                SQLValue.double($0.periodStart(containing: now).timeIntervalSince1970)
            }
            try await connection.query(
                """
                UPDATE api_keys SET period_used_nanos = 0,
                    period_start = CASE limit_reset WHEN 'daily' THEN $2 WHEN 'weekly' THEN $3 ELSE $4 END
                WHERE hash = $1 AND limit_reset IS NOT NULL
                    AND period_start < CASE limit_reset WHEN 'daily' THEN $2 WHEN 'weekly' THEN $3 ELSE $4 END
                """, [.text(record.keyHash)] + starts)
            let key = try await connection.query(
                """
                UPDATE api_keys SET reserved_nanos = reserved_nanos + $2
                WHERE hash = $1 AND (limit_nanos IS NULL OR period_used_nanos + reserved_nanos + $2 <= limit_nanos)
                RETURNING hash
                """, [.text(record.keyHash), .integer(cost.value)])
            if key.isEmpty {
                let row = try await connection.query(
                    "SELECT limit_nanos - period_used_nanos - reserved_nanos AS remaining FROM api_keys WHERE hash = $1",
                    [.text(record.keyHash)]
                ).first
                throw BillingError.keyLimitExceeded(
                    cost: cost, remaining: Nanodollars(try row?.optionalInteger("remaining") ?? 0))
            }
            let account = try await connection.query(
                """
                UPDATE account SET reserved_nanos = reserved_nanos + $1
                WHERE id = 1 AND (total_credits_nanos IS NULL OR used_nanos + reserved_nanos + $1 <= total_credits_nanos)
                RETURNING id
                """, [.integer(cost.value)])
            if account.isEmpty {
                let row = try await connection.query(
                    "SELECT total_credits_nanos - used_nanos - reserved_nanos AS remaining FROM account WHERE id = 1", []
                ).first
                throw BillingError.insufficientCredits(
                    cost: cost, remaining: Nanodollars(try row?.optionalInteger("remaining") ?? 0))
            }
            try await connection.query(
                """
                INSERT INTO generations (id, key_hash, model, provider, voice, format, characters, spoken_characters,
                    price_nanos, reserved_nanos, cost_nanos, started_at, status, instance, response_cache_source_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, 0, $10, 'running', $11, $12)
                """,
                [
                    .text(record.id), .text(record.keyHash), .text(record.model), .text(record.provider),
                    .text(record.voice), .text(record.format), .integer(Int64(record.characters)),
                    .integer(record.pricePerCharacter.value), .integer(cost.value),
                    .double(record.startedAt.timeIntervalSince1970), .text(instance),
                    record.responseCacheSourceID.map { .text($0) } ?? .null,
                ])
        }
    }

    /// Ends a running generation: charges the spoken characters (at the price of `billedAs`,
    /// the model it fell back to, when it did) and releases the rest of the reservation, in one
    /// transaction. A generation that already ended is left as it is.
    public func finish(
        id: String, status: GenerationStatus, spokenCharacters: Int, firstByteAt: Date?, provider: String? = nil,
        upstreamModel: String? = nil, attempts: [ProviderAttempt] = [], billedAs: BilledModel? = nil,
        at date: Date = Date()
    ) async throws {
        let responses = attempts.isEmpty ? nil : (try? JSONEncoder().encode(attempts)).flatMap { String(data: $0, encoding: .utf8) }
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE generations SET status = $2, spoken_characters = $3,
                    cost_nanos = COALESCE($12, price_nanos) * $3, price_nanos = COALESCE($12, price_nanos),
                    first_byte_at = $4, finished_at = $5, provider = COALESCE($6, $9, provider),
                    upstream_model = COALESCE($7, upstream_model),
                    provider_responses = COALESCE($8, provider_responses),
                    model = COALESCE($10, model), voice = COALESCE($11, voice),
                    characters = COALESCE($13, characters)
                WHERE id = $1 AND status = 'running'
                RETURNING key_hash, reserved_nanos, cost_nanos, started_at
                """,
                [
                    .text(id), .text(status.rawValue), .integer(Int64(spokenCharacters)),
                    firstByteAt.map { .double($0.timeIntervalSince1970) } ?? .null, .double(date.timeIntervalSince1970),
                    provider.map { .text($0) } ?? .null, upstreamModel.map { .text($0) } ?? .null,
                    responses.map { .text($0) } ?? .null, billedAs.map { .text($0.provider) } ?? .null,
                    billedAs.map { .text($0.model) } ?? .null, billedAs.map { .text($0.voice) } ?? .null,
                    billedAs.map { .integer($0.pricePerCharacter.value) } ?? .null,
                    billedAs.map { .integer(Int64(clamping: $0.characters)) } ?? .null,
                ])
            guard let row = rows.first else { return }
            let (key, cost) = (try row.string("key_hash"), try row.integer("cost_nanos"))
            try await Self.settle(connection, key: key, reserved: try row.integer("reserved_nanos"), cost: cost)
            try await Self.count(
                connection, key: key, cost: cost, startedAt: Date(timeIntervalSince1970: try row.double("started_at")))
        }
    }

    /// Fails this instance's running generations other than `live` (those a lease of this
    /// process still holds), releasing their reservations: at start, the ones the previous
    /// process left when it died (kill -9, power loss). What they streamed is unknown, so they
    /// are not charged.
    public func failInterruptedGenerations(except live: Set<String> = [], at date: Date = Date()) async throws -> Int {
        let instance = self.instance
        let orphans = try await database.query(
            "SELECT id FROM generations WHERE status = 'running' AND instance = $1", [.text(instance)]
        ).map { try $0.string("id") }.filter { !live.contains($0) }
        var closed = 0
        for id in orphans {
            let rows = try await database.transaction { connection in
                let rows = try await connection.query(
                    """
                    UPDATE generations SET status = 'failed', finished_at = $2, cost_nanos = 0
                    WHERE id = $1 AND status = 'running'
                    RETURNING key_hash, reserved_nanos
                    """, [.text(id), .double(date.timeIntervalSince1970)])
                for row in rows {
                    try await Self.settle(
                        connection, key: try row.string("key_hash"), reserved: try row.integer("reserved_nanos"), cost: 0)
                }
                return rows.count
            }
            closed += rows
        }
        return closed
    }

    public func generation(id: String) async throws -> GenerationRecord? {
        guard let row = try await database.query("SELECT * FROM generations WHERE id = $1", [.text(id)]).first else {
            return nil
        }
        return try Self.generation(from: row)
    }

    /// The latest `limit` generations of every key, newest first.
    public func recentGenerations(limit: Int) async throws -> [GenerationRecord] {
        try await database.query(
            "SELECT * FROM generations ORDER BY started_at DESC, id DESC LIMIT $1", [.integer(Int64(clamping: limit))]
        ).map(Self.generation(from:))
    }

    private static func generation(from row: SQLRow) throws -> GenerationRecord {
        var record = GenerationRecord(
            id: try row.string("id"), keyHash: try row.string("key_hash"), model: try row.string("model"),
            provider: try row.string("provider"), voice: try row.string("voice"), format: try row.string("format"),
            characters: Int(clamping: try row.integer("characters")),
            pricePerCharacter: Nanodollars(try row.integer("price_nanos")),
            startedAt: Date(timeIntervalSince1970: try row.double("started_at")))
        record.upstreamModel = try row.optionalString("upstream_model")
        record.spokenCharacters = Int(clamping: try row.integer("spoken_characters"))
        record.cost = Nanodollars(try row.integer("cost_nanos"))
        record.firstByteAt = try row.optionalDouble("first_byte_at").map(Date.init(timeIntervalSince1970:))
        record.finishedAt = try row.optionalDouble("finished_at").map(Date.init(timeIntervalSince1970:))
        record.responseCacheSourceID = try row.optionalString("response_cache_source_id")
        // Written by this gateway only; an unreadable value reads as no attempts rather than no record.
        if let responses = try row.optionalString("provider_responses") {
            record.providerResponses = (try? JSONDecoder().decode([ProviderAttempt].self, from: Data(responses.utf8))) ?? []
        }
        let status = try row.string("status")
        guard let parsed = GenerationStatus(rawValue: status) else {
            throw SQLRowError.mistyped(column: "status", expected: "a generation status")
        }
        record.status = parsed
        return record
    }

    // MARK: Rate limits

    /// Counts a request in the key's current fixed window (shared by every instance on the same
    /// database) and says whether it fits.
    public func countRequest(keyHash: String, limit: RateLimit, now: Date = Date()) async throws -> RateDecision {
        let seconds = now.timeIntervalSince1970
        let windowStart = (seconds / limit.interval).rounded(.down) * limit.interval
        let count = try await database.transaction { connection in
            try await connection.query(
                "DELETE FROM rate_windows WHERE key_hash = $1 AND window_start < $2",
                [.text(keyHash), .double(windowStart)])
            return try await connection.query(
                """
                INSERT INTO rate_windows (key_hash, window_start, request_count) VALUES ($1, $2, 1)
                ON CONFLICT (key_hash, window_start) DO UPDATE SET request_count = rate_windows.request_count + 1
                RETURNING request_count
                """, [.text(keyHash), .double(windowStart)]
            ).first.map { try $0.integer("request_count") } ?? 1
        }
        return RateDecision(
            allowed: count <= limit.requests, limit: limit.requests, remaining: max(limit.requests - Int(count), 0),
            resetAt: Date(timeIntervalSince1970: windowStart + limit.interval))
    }

    // MARK: Rows

    private static func settle(_ connection: any SQLConnection, key: String, reserved: Int64, cost: Int64) async throws {
        try await connection.query(
            """
            UPDATE api_keys SET reserved_nanos = reserved_nanos - $2, used_nanos = used_nanos + $3,
                period_used_nanos = period_used_nanos + $3
            WHERE hash = $1
            """, [.text(key), .integer(reserved), .integer(cost)])
        try await connection.query(
            "UPDATE account SET reserved_nanos = reserved_nanos - $1, used_nanos = used_nanos + $2 WHERE id = 1",
            [.integer(reserved), .integer(cost)])
    }

    /// Adds a charge to the key's counter of each period, in the period the generation started in:
    /// a counter still in an earlier period starts over, one already in a later period is left as
    /// it is (the charge belongs to a period that is over).
    private static func count(_ connection: any SQLConnection, key: String, cost: Int64, startedAt: Date) async throws {
        guard cost > 0 else { return }
        let starts = LimitReset.allCases.map { SQLValue.double($0.periodStart(containing: startedAt).timeIntervalSince1970) }
        try await connection.query(
            """
            INSERT INTO key_usage (key_hash, period, period_start, used_nanos)
            VALUES ($1, 'daily', $3, $2), ($1, 'weekly', $4, $2), ($1, 'monthly', $5, $2)
            ON CONFLICT (key_hash, period) DO UPDATE SET
                used_nanos = CASE
                    WHEN key_usage.period_start = excluded.period_start THEN key_usage.used_nanos + excluded.used_nanos
                    WHEN key_usage.period_start < excluded.period_start THEN excluded.used_nanos
                    ELSE key_usage.used_nanos END,
                period_start = CASE
                    WHEN key_usage.period_start < excluded.period_start THEN excluded.period_start
                    ELSE key_usage.period_start END
            """, [.text(key), .integer(cost)] + starts)
    }

    private static func key(from row: SQLRow) throws -> APIKey {
        let requests = try row.optionalInteger("rate_limit_requests")
        let interval = try row.optionalDouble("rate_limit_interval")
        return APIKey(
            hash: try row.string("hash"), name: try row.string("name"), label: try row.string("label"),
            createdAt: Date(timeIntervalSince1970: try row.double("created_at")),
            updatedAt: try row.optionalDouble("updated_at").map(Date.init(timeIntervalSince1970:)),
            disabled: try row.bool("disabled"), isManagement: try row.bool("is_management"),
            limit: try row.optionalInteger("limit_nanos").map(Nanodollars.init),
            limitReset: try row.optionalString("limit_reset").flatMap(LimitReset.init(rawValue:)),
            expiresAt: try row.optionalDouble("expires_at").map(Date.init(timeIntervalSince1970:)),
            rateLimit: requests.flatMap { requests in
                interval.map { RateLimit(requests: Int(clamping: requests), interval: $0).clamped }
            },
            periodUsage: Nanodollars(try row.integer("period_used_nanos")),
            reserved: Nanodollars(try row.integer("reserved_nanos")),
            usage: Nanodollars(try row.integer("used_nanos")),
            maxStreams: try row.optionalInteger("max_streams").map {
                Int(clamping: min(max($0, 1), Int64(KeySettings.maximumStreams)))
            })
    }
}
