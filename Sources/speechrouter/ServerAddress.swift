import ArgumentParser
import Foundation
import SpeechRouterClient

/// Where `say` and `models` find a server: `--base-url`, else `SPEECHROUTER_BASE_URL`. Without
/// either they use the built-in engines in this process.
struct ServerAddress: ParsableArguments {
    @Option(
        help:
            "The server's API root, e.g. http://127.0.0.1:8080/api/v1 (default: $SPEECHROUTER_BASE_URL; none: the built-in engines, in-process)."
    )
    var baseURL: String?

    @Option(help: "The API key (default: $SPEECHROUTER_API_KEY).")
    var apiKey: String?

    /// A client when a server is configured, nil for in-process.
    func client() throws -> SpeechRouter? {
        let configured = baseURL ?? ProcessInfo.processInfo.environment["SPEECHROUTER_BASE_URL"]
        guard let url = configured, !url.isEmpty else { return nil }
        return try SpeechRouter(apiKey: apiKey, baseURL: url)
    }
}

/// A failure the command explains in one line; ArgumentParser prints it and exits 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
