import Hummingbird
import NIOCore

/// `GET /openapi.json`: the OpenAPI 3.1 document of this API, docs/openapi.json as it was when the
/// binary was built (SwiftPM embeds it), served byte for byte.
enum OpenAPIDocument {
    static let bytes: [UInt8] = PackageResources.openapi_json

    static func response() -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
