import Accounts
import Hummingbird
import Logging
import SpeechCore

/// What the gateway is built from: the engines it serves, the store it accounts in, and its
/// configuration.
public struct Gateway: Sendable {
    public var engines: [any SpeechEngine]
    public var store: AccountStore
    public var configuration: GatewayConfiguration

    public init(engines: [any SpeechEngine], store: AccountStore, configuration: GatewayConfiguration = .init()) {
        self.engines = engines
        self.store = store
        self.configuration = configuration
    }

    public var catalog: ModelCatalog { ModelCatalog(models: engines.map { configuration.apply(to: $0.model) }) }

    public func router() -> Router<SpeechContext> {
        let router = Router(context: SpeechContext.self)
        router.middlewares.add(APIErrorMiddleware())

        let catalog = self.catalog
        let models = ModelRoutes(catalog: catalog)
        let speech = SpeechRoutes(
            catalog: catalog, engines: Dictionary(uniqueKeysWithValues: engines.map { ($0.model.id, $0) }),
            store: store)
        let accounts = AccountRoutes(store: store, defaultRateLimit: configuration.defaultRateLimit)
        let auth = AuthMiddleware(store: store, defaultRateLimit: configuration.defaultRateLimit)

        router.get("/health") { _, _ in jsonResponse(.object(["status": .string("ok")])) }
        for base in ["/api/v1", "/v1"] {
            let group = router.group(RouterPath(base))
            group.get("models", use: models.list)
            group.get("models/:author/:slug", use: models.show)
            group.group("audio").add(middleware: auth).post("speech", use: speech.speak)
        }
        let api = router.group("/api/v1").add(middleware: auth)
        api.get("key", use: accounts.currentKey)
        api.get("credits", use: accounts.credits)
        api.get("generation", use: accounts.generation)
        api.get("keys", use: accounts.listKeys)
        api.post("keys", use: accounts.createKey)
        api.get("keys/:hash", use: accounts.showKey)
        api.patch("keys/:hash", use: accounts.updateKey)
        api.delete("keys/:hash", use: accounts.deleteKey)
        return router
    }

    public func application(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "SpeechRouter"),
            logger: logger)
    }
}
