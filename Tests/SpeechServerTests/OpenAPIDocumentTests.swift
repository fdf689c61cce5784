import Foundation
import Hummingbird
import HummingbirdTesting
import SpeechCore
import Testing

@testable import SpeechServer

/// `GET /openapi.json` against docs/openapi.json, and the document's operations against the router's.
@Suite struct OpenAPIDocumentTests {
    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.json")

    @Test func servesTheRepositoryFileByteForByteWithoutAKey() async throws {
        let expected = try Data(contentsOf: Self.file)
        let test = try await TestGateway.make()
        try await test.run { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(Data(response.body.readableBytesView) == expected)
            }
        }
    }

    /// Every route of the router either is an operation of the document or answers 405, and
    /// every operation is a route.
    @Test func documentsEveryRouteAndNoOther() async throws {
        guard case .object(let root) = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: Self.file)),
            case .string(let version)? = root["openapi"], case .object(let paths)? = root["paths"]
        else { throw DocumentShapeError() }
        #expect(version.hasPrefix("3.1."))
        let documented = Set(
            paths.flatMap { path, item in
                guard case .object(let operations) = item else { return [String]() }
                return operations.keys.filter { $0 != "parameters" }.map {
                    "\($0.uppercased()) \(Self.unnamed(path))"
                }
            })

        let test = try await TestGateway.make()
        let routes = test.gateway.router().routes.map { (method: $0.method, path: $0.path.description) }
        try await test.run { client in
            var served: Set<String> = []
            for route in routes {
                let uri = route.path.replacing(/\{[a-z]+\}/, with: "x")
                let status = try await client.execute(uri: uri, method: route.method) { $0.status }
                // The page's own script and style sheet are files, not operations of the API.
                if status != .methodNotAllowed, !route.path.hasPrefix("/web/") {
                    served.insert("\(route.method) \(Self.unnamed(route.path))")
                }
            }
            #expect(served == documented)
        }
        #expect(documented.count == 29)
    }

    /// A path with its parameters' names left out: the router may name a parameter after its
    /// sibling routes' (`models/:author` beside `models/:author/:slug`) where the document
    /// names it for what it holds (`models/{id}`).
    static func unnamed(_ path: String) -> String { path.replacing(/\{[A-Za-z_]+\}/, with: "{}") }

    struct DocumentShapeError: Error {}
}
