import Accounts
import ArgumentParser
import Foundation

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API keys.", subcommands: [Create.self, List.self, Disable.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its secret (shown once).")

        @Option(help: "A name to recognise the key by.") var name = "default"
        @Option(help: "Spending limit in USD.") var limit: Double?
        @Option(help: "When the limit starts over: daily, weekly or monthly.") var limitReset: String?
        @Option(help: "Expiry, ISO 8601 (2027-01-01T00:00:00Z).") var expiresAt: String?
        @Flag(help: "A management key: may manage keys and read credits.") var management = false
        @Option(help: "Requests allowed per --rate-interval seconds for this key.") var rateLimit: Int?
        @Option(help: "The rate limit's interval in seconds.") var rateInterval: Double = 60
        @Option(help: "Speech streams this key may have open at once (1-100000; else the configuration's default).")
        var maxStreams: Int?
        @OptionGroup var data: DataDirectory

        func validate() throws {
            if let limitReset, LimitReset(rawValue: limitReset) == nil {
                throw ValidationError("--limit-reset must be daily, weekly or monthly")
            }
            if let expiresAt, ISO8601DateFormatter().date(from: expiresAt) == nil {
                throw ValidationError("--expires-at must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z")
            }
            if let limit, Nanodollars(usd: limit) == nil {
                throw ValidationError("--limit \(Nanodollars.requirement), not \(limit)")
            }
            if let rateLimit, let problem = RateLimit.problem(requests: rateLimit) {
                throw ValidationError("--rate-limit \(problem)")
            }
            if let problem = RateLimit.problem(interval: rateInterval) {
                throw ValidationError("--rate-interval \(problem)")
            }
            if let maxStreams, !(1...KeySettings.maximumStreams).contains(maxStreams) {
                throw ValidationError("--max-streams must be from 1 to \(KeySettings.maximumStreams), not \(maxStreams)")
            }
        }

        func run() async throws {
            let settings = KeySettings(
                name: name, limit: limit.flatMap { Nanodollars(usd: $0) }, limitReset: limitReset.flatMap(LimitReset.init),
                expiresAt: expiresAt.flatMap { ISO8601DateFormatter().date(from: $0) }, isManagement: management,
                rateLimit: rateLimit.map { RateLimit(requests: $0, interval: rateInterval) }, maxStreams: maxStreams)
            let (_, secret) = try await data.withStore { try await $0.createKey(settings) }
            print(secret.value)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var data: DataDirectory

        func run() async throws {
            let keys = try await data.withStore { try await $0.listKeys() }
            print(["hash", "label", "name", "state", "limit", "usage"].joined(separator: "\t"))
            for key in keys {
                let state = key.disabled ? "disabled" : key.isManagement ? "management" : "enabled"
                print([key.hash, key.label, key.name, state, key.limit.map(\.description) ?? "none", key.usage.description]
                    .joined(separator: "\t"))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a key by its hash.")
        @OptionGroup var key: KeyReference

        func run() async throws {
            try await key.change { store, hash in try await store.updateKey(hash: hash, disabled: true) != nil }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key by its hash.")
        @OptionGroup var key: KeyReference

        func run() async throws {
            try await key.change { store, hash in try await store.deleteKey(hash: hash) }
        }
    }

    /// The key a subcommand changes, by its hash, and the store it is in.
    struct KeyReference: ParsableArguments {
        @Argument var hash: String
        @OptionGroup var data: DataDirectory

        /// Runs `change`, which answers whether the store had the key; an unknown hash fails.
        func change(_ change: (AccountStore, String) async throws -> Bool) async throws {
            let found = try await data.withStore { try await change($0, hash) }
            guard found else { throw ValidationError("no key with hash \(hash)") }
        }
    }
}

struct Credits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set the gateway's total credits in USD (omit the amount for unlimited).")
    @Argument var total: Double?
    @OptionGroup var data: DataDirectory

    func validate() throws {
        if let total, Nanodollars(usd: total) == nil {
            throw ValidationError("the total \(Nanodollars.requirement), not \(total)")
        }
    }

    func run() async throws {
        let (credits, usage) = try await data.withStore { store in
            try await store.setCredits(total.flatMap { Nanodollars(usd: $0) })
            return try await store.credits()
        }
        print("total_credits: \(credits.map(\.description) ?? "unlimited")\ntotal_usage: \(usage)")
    }
}
