import ArgumentParser
import Foundation

/// `--data-dir`, else `SPEECHROUTER_DATA_DIR`, else `./data`.
struct DataDirectory: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where the SQLite file lives (default: $SPEECHROUTER_DATA_DIR or ./data).")
    var path: String?

    var resolved: String {
        path ?? ProcessInfo.processInfo.environment["SPEECHROUTER_DATA_DIR"] ?? "data"
    }

    var databasePath: String { (resolved as NSString).appendingPathComponent("speechrouter.sqlite") }
}
