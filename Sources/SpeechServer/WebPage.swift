import HTTPTypes
import Hummingbird
import NIOCore

/// The playground and dashboard page: `GET /` and its two assets, compiled into the binary
/// (SwiftPM embeds Resources/web). The paths are a fixed table, so no request path reaches the
/// file system.
enum WebPage {
    struct Asset: Sendable {
        var path: String
        var contentType: String
        var bytes: [UInt8]
    }

    static let assets = [
        Asset(path: "/", contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        Asset(path: "/web/app.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.app_js),
        Asset(path: "/web/style.css", contentType: "text/css; charset=utf-8", bytes: PackageResources.style_css),
    ]

    /// The page loads nothing from elsewhere and runs no inline script; audio plays from (and the
    /// download can be read back from) blob URLs.
    static let contentSecurityPolicy =
        "default-src 'self'; connect-src 'self' blob:; media-src 'self' blob:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

    static func addRoutes(to router: Router<SpeechContext>) {
        for asset in assets {
            router.get(RouterPath(asset.path)) { _, _ in response(asset) }
        }
    }

    static func response(_ asset: Asset) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: asset.contentType,
                // Unversioned names: the browser revalidates each time, so a new binary's page is seen at once.
                .cacheControl: "no-cache",
                .contentSecurityPolicy: contentSecurityPolicy,
                .xContentTypeOptions: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
