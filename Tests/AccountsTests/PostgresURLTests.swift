import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Accounts

@Suite struct PostgresURLTests {
    @Test func sslmodeChoosesTheConnectionsTLS() throws {
        let base = "postgres://app:s3cret@db.example:6543/speech"
        let unsaid = try PostgresURL(base)
        #expect(unsaid.sslMode == .prefer, "libpq's default")
        #expect(unsaid.host == "db.example" && unsaid.port == 6543 && unsaid.username == "app")
        #expect(unsaid.password == "s3cret" && unsaid.database == "speech")

        #expect(try PostgresURL(base + "?sslmode=disable").tlsConfiguration == nil)
        let expected: [(String, CertificateVerification)] = [
            ("prefer", .none), ("require", .none), ("verify-ca", .noHostnameVerification),
            ("verify-full", .fullVerification),
        ]
        for (mode, verification) in expected {
            let url = try PostgresURL(base + "?sslmode=\(mode)&search_path=s1")
            #expect(url.sslMode.rawValue == mode)
            #expect(url.searchPath == "s1")
            #expect(url.tlsConfiguration?.certificateVerification == verification, "\(mode)")
        }
        let pinned = try PostgresURL(base + "?sslmode=verify-full&sslrootcert=/etc/ssl/db-root.pem")
        #expect(pinned.tlsConfiguration?.trustRoots == .file("/etc/ssl/db-root.pem"))
    }

    @Test func anUnknownSslmodeOrPortIsAClearErrorWithoutThePassword() {
        for (url, fragment) in [
            ("postgres://app:s3cret@db/speech?sslmode=on", "sslmode=on; sslmode is one of disable, prefer, require"),
            ("postgres://app:s3cret@db:99999/speech", "port 99999"),
            ("mysql://app:s3cret@db/speech", "is not a postgres://"),
        ] {
            do {
                _ = try PostgresURL(url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(error.description.contains(fragment), "\(error)")
                #expect(!error.description.contains("s3cret"))
            }
        }
    }

    @Test(.enabled(if: Backend.postgresURL != nil))
    func requireFailsAgainstAServerWithoutTLSWhileDisableConnects() async throws {
        // The test server has no TLS: `require` must not quietly fall back to plain TCP.
        let base = Backend.postgresURL!
        let separator = base.contains("?") ? "&" : "?"
        let plain = try await PostgresDatabase.connect(url: base + separator + "sslmode=disable", logger: Logger(label: "test"))
        #expect(try await plain.query("SELECT 1 AS one", []).first?.integer("one") == 1)
        try await plain.close()
        let preferred = try await PostgresDatabase.connect(url: base + separator + "sslmode=prefer", logger: Logger(label: "test"))
        try await preferred.close()
        do {
            let database = try await PostgresDatabase.connect(
                url: base + separator + "sslmode=require", logger: Logger(label: "test"))
            try await database.close()
            Issue.record("sslmode=require connected to a server without TLS")
        } catch {
            #expect("\(error)".hasSuffix("with sslmode=require: the server does not offer TLS"), "\(error)")
        }
    }
}
