import Accounts
import ArgumentParser
import Foundation
import Logging

/// Where accounts live: `--data-dir` (else `SPEECHROUTER_DATA_DIR`, else `./data`) for SQLite,
/// or PostgreSQL when `SPEECHROUTER_DATABASE_URL` is a postgres:// URL.
struct DataDirectory: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where the SQLite file lives (default: $SPEECHROUTER_DATA_DIR or ./data).")
    var path: String?

    var resolved: String {
        path ?? ProcessInfo.processInfo.environment["SPEECHROUTER_DATA_DIR"] ?? "data"
    }

    private var databaseURL: String? { ProcessInfo.processInfo.environment["SPEECHROUTER_DATABASE_URL"] }

    /// Opens the store for a one-shot command, runs `body` with it, and closes it.
    func withStore<Result>(_ body: (AccountStore) async throws -> Result) async throws -> Result {
        let store = try await AccountStore.open(
            databaseURL: databaseURL, dataDirectory: resolved, instance: "cli",
            logger: Logger(label: "speechrouter.accounts"))
        let result = try await body(store)
        try await store.close()
        return result
    }

    /// The store for the server, to run as a service.
    func storeService(instance: String) async throws -> AccountStore {
        try await AccountStore.service(
            databaseURL: databaseURL, dataDirectory: resolved, instance: instance,
            logger: Logger(label: "speechrouter.accounts"))
    }
}
