import Accounts
import ArgumentParser
import Foundation

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API keys.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its secret (shown once).")

        @Option(help: "A name to recognise the key by.") var name = "default"
        @Option(help: "Spending limit in USD.") var limit: Double?
        @OptionGroup var data: DataDirectory

        func run() async throws {
            let store = try await SQLiteAccountStore.open(path: data.databasePath)
            let (_, secret) = try await store.createKey(name: name, limit: limit)
            try await store.close()
            print(secret.value)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")

        @OptionGroup var data: DataDirectory

        func run() async throws {
            let store = try await SQLiteAccountStore.open(path: data.databasePath)
            let keys = try await store.listKeys()
            try await store.close()
            for key in keys {
                print("\(key.id)\t\(key.name)\t\(key.disabled ? "disabled" : "enabled")\t\(key.limit.map { "$\($0)" } ?? "no limit")")
            }
        }
    }
}
