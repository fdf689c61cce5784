import Foundation
import Logging

@testable import Accounts

/// The backends every store test runs on: SQLite always; PostgreSQL when
/// `SPEECHROUTER_TEST_DATABASE_URL` names a server (scripts/test starts one, so CI runs both).
enum Backend: String, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    var description: String { rawValue }

    static var available: [Backend] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    static var postgresURL: String? {
        let url = ProcessInfo.processInfo.environment["SPEECHROUTER_TEST_DATABASE_URL"]
        return url?.isEmpty == false ? url : nil
    }

    /// A fresh, empty database: a new SQLite file, or a new PostgreSQL schema.
    func makeLocation() async throws -> String {
        switch self {
        case .sqlite:
            return FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString)").path
        case .postgres:
            let base = Backend.postgresURL!
            let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let admin = try await PostgresDatabase.connect(url: base, logger: Logger(label: "test"))
            try await admin.query("CREATE SCHEMA \(schema)", [])
            try await admin.close()
            return base + (base.contains("?") ? "&" : "?") + "search_path=\(schema)"
        }
    }

    func open(_ location: String, instance: String = "test") async throws -> AccountStore {
        switch self {
        case .sqlite:
            try await AccountStore.open(databaseURL: nil, dataDirectory: location, instance: instance, logger: Logger(label: "test"))
        case .postgres:
            try await AccountStore.open(databaseURL: location, dataDirectory: "", instance: instance, logger: Logger(label: "test"))
        }
    }
}

func record(_ id: String, key: APIKey, characters: Int, price: Int64) -> GenerationRecord {
    GenerationRecord(
        id: id, keyHash: key.hash, model: "local/flite", provider: "local", voice: "slt", format: "mp3",
        characters: characters, pricePerCharacter: Nanodollars(price), startedAt: Date())
}
