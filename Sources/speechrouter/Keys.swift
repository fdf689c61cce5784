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
        @OptionGroup var data: DataDirectory

        func validate() throws {
            if let limitReset, LimitReset(rawValue: limitReset) == nil {
                throw ValidationError("--limit-reset must be daily, weekly or monthly")
            }
            if let expiresAt, ISO8601DateFormatter().date(from: expiresAt) == nil {
                throw ValidationError("--expires-at must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z")
            }
            if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
        }

        func run() async throws {
            let store = try await data.openStore()
            let settings = KeySettings(
                name: name, limit: limit.map { Nanodollars(usd: $0) }, limitReset: limitReset.flatMap(LimitReset.init),
                expiresAt: expiresAt.flatMap { ISO8601DateFormatter().date(from: $0) }, isManagement: management,
                rateLimit: rateLimit.map { RateLimit(requests: $0, interval: rateInterval) })
            let (_, secret) = try await store.createKey(settings)
            try await store.close()
            print(secret.value)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var data: DataDirectory

        func run() async throws {
            let store = try await data.openStore()
            let keys = try await store.listKeys()
            try await store.close()
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
        @Argument var hash: String
        @OptionGroup var data: DataDirectory

        func run() async throws {
            let store = try await data.openStore()
            let key = try await store.updateKey(hash: hash, disabled: true)
            try await store.close()
            guard key != nil else { throw ValidationError("no key with hash \(hash)") }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key by its hash.")
        @Argument var hash: String
        @OptionGroup var data: DataDirectory

        func run() async throws {
            let store = try await data.openStore()
            let deleted = try await store.deleteKey(hash: hash)
            try await store.close()
            guard deleted else { throw ValidationError("no key with hash \(hash)") }
        }
    }
}

struct Credits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set the gateway's total credits in USD (omit the amount for unlimited).")
    @Argument var total: Double?
    @OptionGroup var data: DataDirectory

    func run() async throws {
        let store = try await data.openStore()
        try await store.setCredits(total.map { Nanodollars(usd: $0) })
        let (credits, usage) = try await store.credits()
        try await store.close()
        print("total_credits: \(credits.map(\.description) ?? "unlimited")\ntotal_usage: \(usage)")
    }
}
