import Accounts
import Hummingbird
import Logging
import SpeechCore

/// What the gateway is built from: the engines it serves and the store it accounts in.
public struct Gateway: Sendable {
    public var engines: [any SpeechEngine]
    public var store: any AccountStore

    public init(engines: [any SpeechEngine], store: any AccountStore) {
        self.engines = engines
        self.store = store
    }

    public var catalog: ModelCatalog { ModelCatalog(models: engines.map(\.model)) }

    public func router() -> Router<SpeechContext> {
        let router = Router(context: SpeechContext.self)
        router.middlewares.add(APIErrorMiddleware())

        let models = ModelRoutes(catalog: catalog)
        let speech = SpeechRoutes(
            catalog: catalog, engines: Dictionary(uniqueKeysWithValues: engines.map { ($0.model.id, $0) }),
            store: store)

        router.get("/health") { _, _ in jsonResponse(.object(["status": .string("ok")])) }
        for base in ["/api/v1", "/v1"] {
            let group = router.group(RouterPath(base))
            group.get("models", use: models.list)
            group.get("models/:author/:slug", use: models.show)
            group.group("audio").add(middleware: AuthMiddleware(store: store))
                .post("speech", use: speech.speak)
        }
        return router
    }

    public func application(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "SpeechRouter"),
            logger: logger)
    }
}
