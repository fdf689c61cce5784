import Foundation

/// Where keys and generations live. SQLite now; PostgreSQL implements the same surface when
/// several gateway instances share one state.
public protocol AccountStore: Sendable {
    /// Creates a key and returns it with its secret, which is not stored and cannot be shown again.
    func createKey(name: String, limit: Double?) async throws -> (APIKey, KeySecret)
    /// The enabled key whose hash matches the secret, if any.
    func authenticate(_ secret: KeySecret) async throws -> APIKey?
    func listKeys() async throws -> [APIKey]
    func startGeneration(_ record: GenerationRecord) async throws
    func finishGeneration(id: String, status: GenerationStatus, spokenCharacters: Int, at: Date) async throws
    func generation(id: String) async throws -> GenerationRecord?
    /// Marks generations left `running` by a process that died as failed. Returns how many.
    func failInterruptedGenerations(at: Date) async throws -> Int
    func close() async throws
}
