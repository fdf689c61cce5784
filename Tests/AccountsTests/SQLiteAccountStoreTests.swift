import Foundation
import Testing

@testable import Accounts

func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString)/speechrouter.sqlite")
        .path
}

@Suite struct SQLiteAccountStoreTests {
    @Test func createdKeyAuthenticatesAndOthersDoNot() async throws {
        let store = try await SQLiteAccountStore.open(path: temporaryDatabase())
        let (key, secret) = try await store.createKey(name: "ci", limit: 5)
        #expect(secret.value.hasPrefix("sk-sr-v1-"))
        #expect(secret.value.count == "sk-sr-v1-".count + 64)
        #expect(try await store.authenticate(secret)?.id == key.id)
        let tampered = secret.value.dropLast() + (secret.value.hasSuffix("0") ? "1" : "0")
        #expect(try await store.authenticate(KeySecret(String(tampered))) == nil)
        #expect(try await store.authenticate(KeySecret("")) == nil)
        #expect(try await store.listKeys().map(\.name) == ["ci"])
        try await store.close()
    }

    @Test func onlyTheHashIsWritten() async throws {
        let path = temporaryDatabase()
        let store = try await SQLiteAccountStore.open(path: path)
        let (_, secret) = try await store.createKey(name: "x", limit: nil)
        try await store.close()
        var contents = try Data(contentsOf: URL(fileURLWithPath: path))
        if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { contents += wal }
        let hex = String(secret.value.dropFirst(KeySecret.prefix.count))
        #expect(contents.range(of: Data(hex.utf8)) == nil)
        #expect(contents.range(of: Data(secret.hash.utf8)) != nil)
    }

    @Test func generationLifecycleAndCrashRecovery() async throws {
        let path = temporaryDatabase()
        var store = try await SQLiteAccountStore.open(path: path)
        let (key, _) = try await store.createKey(name: "x", limit: nil)
        let started = Date()
        for id in ["gen-1", "gen-2"] {
            try await store.startGeneration(
                GenerationRecord(
                    id: id, keyID: key.id, model: "local/flite", provider: "local", voice: "slt", format: "mp3",
                    characters: 42, startedAt: started))
        }
        try await store.finishGeneration(id: "gen-1", status: .cancelled, spokenCharacters: 10, at: Date())
        // A finished generation is not rewritten by a late second finish.
        try await store.finishGeneration(id: "gen-1", status: .completed, spokenCharacters: 42, at: Date())
        let first = try #require(try await store.generation(id: "gen-1"))
        #expect(first.status == .cancelled)
        #expect(first.characters == 42)
        #expect(first.spokenCharacters == 10)
        try await store.close()

        // gen-2 was left running, as after kill -9; reopening (migrations run again) recovers it.
        store = try await SQLiteAccountStore.open(path: path)
        #expect(try await store.failInterruptedGenerations(at: Date()) == 1)
        #expect(try await store.generation(id: "gen-2")?.status == .failed)
        #expect(try await store.generation(id: "gen-1")?.status == .cancelled)
        #expect(try await store.authenticate(KeySecret("nope")) == nil)
        #expect(try await store.listKeys().count == 1)
        try await store.close()
    }
}
