import Accounts
import ArgumentParser
import BuiltinEngines
import Foundation
import Hummingbird
import Logging
import Providers
import SpeechServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "A JSON configuration file (model prices, rate limit).") var config: String?
    @OptionGroup var data: DataDirectory

    func run() async throws {
        var logger = Logger(label: "speechrouter")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let configuration = try config.map(GatewayConfiguration.load(path:)) ?? GatewayConfiguration()
        // One name per serving address, stable across restarts, so a restarted instance fails
        // only the generations it was itself running when it died.
        let instance = ProcessInfo.processInfo.environment["SPEECHROUTER_INSTANCE"]
            ?? "\(ProcessInfo.processInfo.hostName):\(port)"
        let store = try await data.openStore(instance: instance)
        let interrupted = try await store.failInterruptedGenerations()
        if interrupted > 0 {
            logger.warning("failed generations left running by this instance's last process", metadata: ["count": "\(interrupted)"])
        }
        let engines = try await LocalEngines.start()
        let client = UpstreamClient(
            connectTimeout: .milliseconds(Int((configuration.upstreamTimeouts?.connectSeconds ?? 5) * 1000)),
            firstByteTimeout: .milliseconds(Int((configuration.upstreamTimeouts?.firstByteSeconds ?? 30) * 1000)))
        let providers = UpstreamCatalog.providers(environment: ProcessInfo.processInfo.environment, client: client)
        let gateway = Gateway(engines: engines, providers: providers, store: store, configuration: configuration)
        logger.info(
            "serving", metadata: ["address": "http://\(host):\(port)", "models": "\(gateway.catalog.models.map(\.id))"])
        try await gateway.application(host: host, port: port, logger: logger).runService()
        try await client.shutdown()
        try await store.close()
    }
}
