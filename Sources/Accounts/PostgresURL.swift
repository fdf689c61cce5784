import Foundation
import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…&search_path=…`, parsed
/// once into what the connection pool is configured with.
struct PostgresURL: Equatable {
    /// libpq's `sslmode` values that mean something to a client with no client certificate.
    enum SSLMode: String, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or no connection, without checking the certificate.
        case require
        /// TLS with a certificate signed by a trusted root, for any host name.
        case verifyCA = "verify-ca"
        /// TLS with a trusted certificate for the host connected to.
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var sslMode: SSLMode
    /// The trusted roots (a PEM file) instead of the system's, for `verify-ca` and `verify-full`.
    var sslRootCertificate: String?
    /// `?search_path=schema` puts every pooled connection in that schema (used to isolate tests).
    var searchPath: String?

    init(_ url: String) throws(DatabaseURLError) {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty,
            ["postgres", "postgresql"].contains(components.scheme ?? "")
        else {
            throw DatabaseURLError(reason: "is not a postgres://user:password@host:port/database URL")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw DatabaseURLError(reason: "has port \(port); a port is from 1 to 65535")
        }
        func parameter(_ name: String) -> String? { components.queryItems?.first { $0.name == name }?.value }
        let mode = parameter("sslmode") ?? SSLMode.prefer.rawValue
        guard let sslMode = SSLMode(rawValue: mode) else {
            let known = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw DatabaseURLError(reason: "has sslmode=\(mode); sslmode is one of \(known)")
        }
        self.host = host
        self.port = port
        self.username = components.user ?? "postgres"
        self.password = components.password
        self.database = components.path.split(separator: "/").first.map(String.init)
        self.sslMode = sslMode
        self.sslRootCertificate = parameter("sslrootcert")
        self.searchPath = parameter("search_path")
    }

    /// The TLS settings of a connection, nil for none.
    var tlsConfiguration: TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return nil
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let sslRootCertificate { configuration.trustRoots = .file(sslRootCertificate) }
        return configuration
    }

    var tls: PostgresClient.Configuration.TLS {
        guard let tlsConfiguration else { return .disable }
        return sslMode == .prefer ? .prefer(tlsConfiguration) : .require(tlsConfiguration)
    }
}

/// A database that cannot be reached, and why (never its password).
public struct DatabaseConnectionError: Error, CustomStringConvertible {
    var url: PostgresURL
    var cause: String
    public var description: String {
        "cannot connect to PostgreSQL at \(url.host):\(url.port) with sslmode=\(url.sslMode.rawValue): \(cause)"
    }
}

/// A database URL that cannot be used, and why; never the URL itself, which holds a password.
public struct DatabaseURLError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "SPEECHROUTER_DATABASE_URL \(reason)" }
}
