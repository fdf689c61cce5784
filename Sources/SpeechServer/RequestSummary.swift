import Accounts
import Synchronization

/// What the handlers learn about one request that its log line reports: the key that made it
/// (by name, never the secret) and the generation it started. Shared by every copy of the
/// request's context, so the outermost middleware reads what the inner ones wrote.
public final class RequestSummary: Sendable {
    struct Fields: Sendable, Equatable {
        var keyName: String?
        var generation: String?
        var model: String?
        var provider: String?
        /// The characters billed: the whole input while the generation runs, what was spoken once it ended.
        var characters: Int?
    }

    private let fields = Mutex(Fields())

    public init() {}

    var current: Fields { fields.withLock { $0 } }

    func authenticated(as key: APIKey) {
        fields.withLock { $0.keyName = key.name }
    }

    /// The request started `lease`'s generation; its end fills in the provider and the characters spoken.
    func started(_ lease: GenerationLease) {
        let record = lease.record
        fields.withLock {
            $0.generation = record.id
            $0.model = record.model
            $0.characters = record.characters
        }
        lease.whenEnded { (end: GenerationEnd) in
            self.fields.withLock {
                $0.model = end.billedAs?.model ?? record.model
                $0.provider = end.provider ?? end.billedAs?.provider ?? record.provider
                $0.characters = end.spokenCharacters
            }
        }
    }
}
