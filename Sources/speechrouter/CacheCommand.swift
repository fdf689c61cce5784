import ArgumentParser
import Foundation
import SpeechCache
import SpeechServer

/// `speechrouter cache stats|clear`: the speech cache's directory, as `serve` with the same
/// `--config` and `--data-dir` uses it.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "Show or clear the speech cache.", subcommands: [Stats.self, Clear.self])

    /// The store `serve` opens: the configured directory and size limit.
    static func openStore(_ settings: SpeechCacheSettings?, dataDirectory: String) throws -> SpeechCacheStore {
        let settings = settings ?? SpeechCacheSettings()
        return try SpeechCacheStore(
            directory: settings.directory(dataDirectory: dataDirectory),
            limitBytes: settings.maxBytes ?? SpeechCacheSettings.defaultMaxBytes)
    }

    struct Location: ParsableArguments {
        @Option(help: "The JSON configuration file serve uses (for cache.directory and cache.max_bytes).")
        var config: String?
        @OptionGroup var data: DataDirectory

        var settings: SpeechCacheSettings {
            get throws { try config.map(GatewayConfiguration.load(path:))?.cache ?? SpeechCacheSettings() }
        }
        var directory: URL { get throws { try settings.directory(dataDirectory: data.resolved) } }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The entries and bytes stored, and the hits, misses and evictions the server has counted.")
        @OptionGroup var location: Location

        func run() throws {
            var statistics = SpeechCacheStore.storedStatistics(directory: try location.directory)
            statistics.limitBytes = try location.settings.maxBytes ?? SpeechCacheSettings.defaultMaxBytes
            print("directory:   \(try location.directory.path)")
            for (name, value) in [
                ("entries", statistics.entries), ("bytes", statistics.bytes), ("limit_bytes", statistics.limitBytes),
                ("hits", statistics.hits), ("coalesced", statistics.coalesced), ("misses", statistics.misses),
                ("evictions", statistics.evictions),
            ] {
                print("\(name):".padding(toLength: 13, withPad: " ", startingAt: 0) + "\(value)")
            }
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete every stored entry (a running server's syntheses in flight are left alone).")
        @OptionGroup var location: Location

        func run() throws {
            let removed = SpeechCacheStore.clear(directory: try location.directory)
            print("removed \(removed) entries from \(try location.directory.path)")
        }
    }
}
