import Accounts
import ArgumentParser
import BuiltinEngines
import Foundation
import Hummingbird
import Logging
import SpeechServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @OptionGroup var data: DataDirectory

    func run() async throws {
        var logger = Logger(label: "speechrouter")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let store = try await SQLiteAccountStore.open(path: data.databasePath)
        let interrupted = try await store.failInterruptedGenerations(at: Date())
        if interrupted > 0 {
            logger.warning("marked generations left running by an earlier process as failed", metadata: ["count": "\(interrupted)"])
        }
        let engines = try await LocalEngines.start()
        let gateway = Gateway(engines: engines, store: store)
        logger.info(
            "serving", metadata: ["address": "http://\(host):\(port)", "models": "\(gateway.catalog.models.map(\.id))"])
        try await gateway.application(host: host, port: port, logger: logger).runService()
        try await store.close()
    }
}
