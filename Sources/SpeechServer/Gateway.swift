public import Accounts
public import Hummingbird
import HummingbirdCore
public import Logging
public import Providers
public import Routing
public import SpeechCache
public import SpeechCore

/// What the gateway is built from: its built-in engines, the upstream providers it has
/// credentials for, the store it accounts in, and its configuration.
public struct Gateway: Sendable {
    public var engines: [any SpeechEngine]
    public var providers: [String: any SpeechProvider]
    /// The adapters of the configuration file's deployments, by `Deployment.id`
    /// (`GatewayConfiguration.deploymentProviders`).
    public var deploymentProviders: [String: any SpeechProvider]
    /// Every upstream deployment's health: breakers, latency, error rate.
    public let health: FleetHealth
    public var upstreamModels: [UpstreamModel]
    public var store: AccountStore
    public var configuration: GatewayConfiguration
    /// Starts generations and records their ends; run it as a service beside the server.
    public let ledger: GenerationLedger
    /// What `/metrics` shows; each gateway has its own registry unless one is passed in.
    public let metrics: GatewayMetrics
    /// The speech cache (`configuration.cache` says how it is used); nil: nothing is cached.
    public var cache: SpeechCacheStore?
    /// Gives the memory a load freed back to the system once the server has gone idle.
    let heapTrim = IdleHeapTrim()

    public init(
        engines: [any SpeechEngine], providers: [String: any SpeechProvider] = [:],
        upstreamModels: [UpstreamModel] = UpstreamCatalog.defaultModels, store: AccountStore,
        configuration: GatewayConfiguration = .init(), metrics: GatewayMetrics = GatewayMetrics(),
        deploymentProviders: [String: any SpeechProvider] = [:], health: FleetHealth = FleetHealth(),
        logger: Logger = Logger(label: "speechrouter")
    ) {
        self.engines = engines
        self.providers = providers
        self.deploymentProviders = deploymentProviders
        self.health = health
        self.upstreamModels = upstreamModels
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        self.ledger = GenerationLedger(store: store, logger: logger) { metrics.generationEnded($0, $1) }
    }

    /// Every servable model: the built-in ones, and each upstream model with at least one
    /// endpoint whose provider is configured (the others are not listed).
    var backends: [(SpeechModel, SpeechBackend)] {
        let local = engines.map { (configuration.apply(to: $0.model), SpeechBackend.engine($0)) }
        let upstream = configuration.upstreamModels(defaults: upstreamModels).compactMap {
            upstream -> (SpeechModel, SpeechBackend)? in
            let endpoints = deployments(of: upstream)
            var model = upstream.model
            model.supportsVoiceCloning = SpeechBackend.upstream(endpoints).clonesVoices
            return endpoints.isEmpty ? nil : (model, .upstream(endpoints))
        }
        return local + upstream
    }

    /// An upstream model's deployments: the configuration file's `deployments`, load-balanced, or
    /// else one per endpoint whose provider the environment configures (the one-deployment
    /// shorthand), tried in the order listed.
    private func deployments(of upstream: UpstreamModel) -> [RoutedEndpoint] {
        let model = upstream.model
        func metered(_ provider: any SpeechProvider) -> any SpeechProvider {
            MeteredProvider(provider: provider, metrics: metrics)
        }
        if let override = configuration.models[model.id], let settings = override.deployments {
            return settings.compactMap { setting in
                let deployment = setting.deployment(of: model.id, modelPrice: model.pricePerCharacter)
                return deploymentProviders[deployment.id].map {
                    RoutedEndpoint(
                        deployment: deployment, endpoint: ProviderEndpoint(provider: metered($0), model: setting.model),
                        strategy: override.routingStrategy ?? .balanced)
                }
            }
        }
        return upstream.endpoints.compactMap { endpoint in
            providers[endpoint.provider].map {
                RoutedEndpoint(
                    deployment: Deployment(
                        model: model.id, tag: endpoint.provider, pricePerCharacter: Double(model.pricePerCharacter) ?? 0),
                    endpoint: ProviderEndpoint(provider: metered($0), model: endpoint.model), strategy: .ordered)
            }
        }
    }

    public var catalog: ModelCatalog { ModelCatalog(models: backends.map(\.0)) }

    /// Admission for this configuration: each built-in engine's capacity from its default
    /// speed, its threads and the configured cap. When the last stream ends, the memory the
    /// load freed goes back to the system.
    func makeAdmission() -> StreamAdmission {
        let measured = configuration.admission?.measured ?? true
        let capacities = engines.map { engine in
            let id = engine.model.id
            return (
                id,
                EngineCapacity(
                    threads: engine.parallelism, defaultSpeed: EngineCapacity.defaultSpeed(model: id),
                    measured: measured, cap: configuration.models[id]?.maxConcurrentStreams)
            )
        }
        return StreamAdmission(
            engines: Dictionary(capacities) { first, _ in first },
            maxStreamsPerKey: configuration.admission?.maxStreamsPerKey, whenIdle: { [engines, heapTrim] stillIdle in
                heapTrim.serverWentIdle(engines: engines, stillIdle: stillIdle)
            })
    }

    /// The routes; `logger` gets the built-in engines' capacity figures once, and a line per request.
    public func router(logger: Logger = Logger(label: "speechrouter")) -> Router<SpeechContext> {
        let router = Router(context: SpeechContext.self)
        // Outermost first: the request log sees the status the client got, CORS headers go on errors too.
        router.middlewares.add(RequestLogMiddleware(logger: logger, metrics: metrics))
        router.middlewares.add(
            CrossOriginMiddleware(policy: (try? configuration.crossOriginPolicy) ?? CrossOriginPolicy.sameOrigin))
        router.middlewares.add(APIErrorMiddleware())

        let admission = makeAdmission()
        for (model, capacity, _) in admission.figures {
            logger.info(
                "stream capacity",
                metadata: [
                    "model": "\(model)", "threads": "\(capacity.threads)",
                    "speed": "\(capacity.measured ? "\(capacity.speed) s of audio per second of processor time, measured as it runs" : "not measured")",
                    "max_streams": "\(capacity.streams == .max ? "no limit" : String(capacity.streams))",
                ])
        }
        let backends = self.backends.map { model, backend in
            guard case .engine(let engine) = backend else { return (model, backend) }
            return (model, SpeechBackend.engine(MeasuredEngine(engine: engine, admission: admission)))
        }
        let catalog = ModelCatalog(models: backends.map(\.0))
        let models = ModelRoutes(
            catalog: catalog,
            endpoints: Dictionary(uniqueKeysWithValues: backends.map { model, backend -> (String, [ModelEndpoint]) in
                switch backend {
                case .engine: (model.id, [ModelEndpoint.builtIn])
                case .upstream(let endpoints):
                    (
                        model.id,
                        endpoints.map {
                            ModelEndpoint(
                                providerName: $0.endpoint.provider.name, tag: $0.deployment.tag,
                                supportsVoiceCloning: $0.endpoint.provider.maxReferenceAudios > 0, deployment: $0.deployment)
                        }
                    )
                }
            }), health: health)
        let speech = SpeechRoutes(
            catalog: catalog, backends: Dictionary(uniqueKeysWithValues: backends.map { ($0.0.id, $0.1) }),
            ledger: ledger, admission: admission, routing: FleetRouting(health: health),
            caching: cache.map { SpeechCaching(store: $0, settings: configuration.cache ?? .init()) })
        let accounts = AccountRoutes(store: store, defaultRateLimit: configuration.defaultRateLimit)
        let auth = AuthMiddleware(store: store, defaultRateLimit: configuration.defaultRateLimit)

        router.get("/health") { _, _ in HealthStatus(status: "ok") }
        router.get("/openapi.json") { _, _ in OpenAPIDocument.response() }
        WebPage.addRoutes(to: router)
        if configuration.metrics?.enabled ?? true {
            let route = MetricsRoute(
                metrics: metrics, token: configuration.metrics?.bearerToken, ledger: ledger, admission: admission,
                cache: cache,
                deployments: backends.flatMap { _, backend -> [Deployment] in
                    if case .upstream(let endpoints) = backend { endpoints.map(\.deployment) } else { [] }
                }, health: health)
            router.get("/metrics", use: route.scrape)
        }
        for base in ["/api/v1", "/v1"] {
            let group = router.group(RouterPath(base))
            group.get("models", use: models.list).get("models/count", use: models.count)
            // One segment: the whole id with its slash percent-encoded (Hummingbird wants the
            // capture named as the two-segment route's first).
            group.get("models/:author", use: models.retrieve)
            group.group("models/:author/:slug").get(use: models.show).get("endpoints", use: models.listEndpoints)
            group.get("model/:author/:slug", use: models.show)
            group.group("audio").add(middleware: auth)
                .post("speech", use: speech.speak).post("captioned_speech", use: speech.caption)
        }
        let api = router.group("/api/v1").add(middleware: auth)
        api.get("key", use: accounts.currentKey).get("credits", use: accounts.credits)
        api.get("generation", use: accounts.generation).get("generations", use: accounts.recentGenerations)
        api.group("keys").get(use: accounts.listKeys).post(use: accounts.createKey)
        api.group("keys/:hash")
            .get(use: accounts.showKey).patch(use: accounts.updateKey).delete(use: accounts.deleteKey)
        MethodNotAllowed.refuseUnservedMethods(on: router)
        return router
    }

    public func application(
        host: String, port: Int, limits: ConnectionLimits = ConnectionLimits(), logger: Logger
    ) -> Application<RouterResponder<SpeechContext>> {
        Application(
            router: router(logger: logger),
            server: HTTPServerBuilder { LimitedHTTP1Channel(responder: $0, limits: limits) },
            configuration: .init(address: .hostname(host, port: port), serverName: "SpeechRouter"),
            logger: logger)
    }
}

/// `GET /health`.
struct HealthStatus: ResponseEncodable, Sendable {
    var status: String
}
