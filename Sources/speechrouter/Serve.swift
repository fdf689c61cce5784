import Accounts
import ArgumentParser
import BuiltinEngines
import Foundation
import Hummingbird
import Logging
import CoreMetrics
import Prometheus
import Providers
import Routing
import ServiceLifecycle
import SpeechCache
import SpeechServer
import SpeechCore
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (1-65535).") var port = 8080
    @Option(help: "A JSON configuration file (model prices, rate limit).") var config: String?
    @Option(help: "Seconds that streams in flight may take to finish after SIGTERM or SIGINT (0-3600).")
    var shutdownGrace: Double = 30
    @Option(help: "Connections open at once; more are answered 503 and closed (default 512, or the configuration file's).")
    var maxConnections: Int?
    @Option(help: "Seconds a new connection may take to send its first request head (default 10).")
    var headerTimeout: Double?
    @Option(help: "Seconds a connection may sit idle between requests (default 60).")
    var idleTimeout: Double?
    @Option(help: "Seconds a response may wait on a client that stopped reading before it is cut off (default 30).")
    var writeTimeout: Double?
    @Option(help: "How log lines are written: text, or json (one object per line, for log shippers; default text, or the configuration file's log_format).")
    var logFormat: String?
    @Option(
        name: .customLong("cors-origin"),
        help: "An origin whose browser pages may call the API, such as https://app.example.com (repeatable; added to the configuration file's cors.allowed_origins; * allows any).")
    var corsOrigins: [String] = []
    @OptionGroup var data: DataDirectory
    @OptionGroup var voices: VoicesFolderOption

    /// The `/metrics` bearer token, from the environment rather than a flag, so it stays out of `ps`.
    static let metricsTokenVariable = "SPEECHROUTER_METRICS_TOKEN"

    func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard shutdownGrace.isFinite, (0...3_600).contains(shutdownGrace) else {
            throw ValidationError("--shutdown-grace must be between 0 and 3600 seconds")
        }
        if let logFormat, LogFormat(rawValue: logFormat) == nil {
            throw ValidationError("--log-format must be text or json, not '\(logFormat.prefix(40))'")
        }
        do {
            _ = try connectionLimits(over: ConnectionLimits())
            _ = try CrossOriginPolicy(allowedOrigins: corsOrigins, name: "--cors-origin")
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `limits` (the configuration file's) with the command line's connection options.
    func connectionLimits(over limits: ConnectionLimits) throws(ConfigurationError) -> ConnectionLimits {
        var limits = limits
        if let maxConnections { limits.maxOpen = try ConnectionLimits.open(maxConnections, name: "--max-connections") }
        if let headerTimeout { limits.headerTimeout = try ConnectionLimits.timeout(seconds: headerTimeout, name: "--header-timeout") }
        if let idleTimeout { limits.idleTimeout = try ConnectionLimits.timeout(seconds: idleTimeout, name: "--idle-timeout") }
        if let writeTimeout {
            limits.writeTimeout = try ConnectionLimits.timeout(seconds: writeTimeout, name: "--write-timeout")
        }
        return limits
    }

    /// The configuration file's settings with the command line's and the environment's.
    func effectiveConfiguration(environment: [String: String]) throws -> GatewayConfiguration {
        var configuration = try config.map(GatewayConfiguration.load(path:)) ?? GatewayConfiguration()
        if !corsOrigins.isEmpty {
            configuration.cors = .init(allowedOrigins: (configuration.cors?.allowedOrigins ?? []) + corsOrigins)
            _ = try configuration.crossOriginPolicy
        }
        if let token = environment[Self.metricsTokenVariable] {
            var metrics = configuration.metrics ?? .init()
            metrics.bearerToken = try MetricsToken(token, name: Self.metricsTokenVariable)
            configuration.metrics = metrics
        }
        if let format = logFormat.flatMap(LogFormat.init(rawValue:)) { configuration.logFormat = format }
        return configuration
    }

    func run() async throws {
        let configuration = try effectiveConfiguration(environment: ProcessInfo.processInfo.environment)
        if configuration.logFormat == .json {
            LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        }
        var logger = Logger(label: "speechrouter")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        // One name per serving address, stable across restarts, so a restarted instance fails
        // only the generations it was itself running when it died.
        let instance = ProcessInfo.processInfo.environment["SPEECHROUTER_INSTANCE"]
            ?? "\(ProcessInfo.processInfo.hostName):\(port)"
        let store = try await data.storeService(instance: instance)
        let engines = try await LocalEngines.start(
            piper: .locate(configured: configuration.piperDirectory),
            voices: voices.folder(configured: configuration.voicesDirectory, data: data), logger: logger)
        let cache = try CacheCommand.openStore(configuration.cache, dataDirectory: data.resolved)
        let limits = try connectionLimits(over: try configuration.connectionLimits)
        let healthPolicy = try configuration.healthPolicy
        let client = UpstreamClient(
            connectTimeout: .milliseconds(Int((configuration.upstreamTimeouts?.connectSeconds ?? 5) * 1000)),
            firstByteTimeout: .milliseconds(Int((configuration.upstreamTimeouts?.firstByteSeconds ?? 30) * 1000)))
        let environment = ProcessInfo.processInfo.environment
        let providers = UpstreamCatalog.providers(environment: environment, client: client)
        // A deployment whose key variable is unset stops the start here, naming the variable. The
        // HTTP client must be shut down before it goes (AsyncHTTPClient traps otherwise).
        let deployed: [String: any SpeechProvider]
        do {
            deployed = try configuration.deploymentProviders(environment: environment, client: client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        var configured = Gateway(
            engines: engines.engines, providers: providers, store: store, configuration: configuration,
            deploymentProviders: deployed, health: FleetHealth(policy: healthPolicy), logger: logger)
        configured.cache = cache
        let gateway = configured
        // Once per process: metrics other libraries make through swift-metrics land in the same registry.
        MetricsSystem.bootstrap(gateway.metrics.factory)
        let janitor = GenerationJanitor(ledger: gateway.ledger, logger: logger)

        var application = gateway.application(host: host, port: port, limits: limits, logger: logger)
        application.beforeServerStarts { [logger] in
            try await store.migrate()
            try await janitor.sweep()
            logger.info(
                "serving",
                metadata: ["address": "http://\(host):\(port)", "models": "\(gateway.catalog.models.map(\.id))"])
        }
        // Started together; at SIGTERM or SIGINT shut down in reverse order: the server first
        // (streams in flight get the grace period), then what those streams still need.
        // SIGHUP reloads the voices folder (see VoiceReload).
        let reload: [any Service] =
            engines.piper == nil && engines.hibari == nil
            ? [] : [VoiceReload(piper: engines.piper, hibari: engines.hibari, logger: logger)]
        let services: [any Service] =
            [store, engines, client, gateway.ledger, janitor] + reload
            + [GatewayServer(application: application, grace: .milliseconds(Int(shutdownGrace * 1000)))]
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        if let statistics = gateway.cache?.statistics {
            logger.info(
                "speech cache",
                metadata: [
                    "hits": "\(statistics.hits)", "misses": "\(statistics.misses)",
                    "coalesced": "\(statistics.coalesced)", "entries": "\(statistics.entries)",
                    "bytes": "\(statistics.bytes)", "evictions": "\(statistics.evictions)",
                ])
        }
        logger.info("stopped")
    }
}

