import HTTPTypes
import Hummingbird

/// RFC 9110 §15.5.6: a path the API serves, asked with a method it does not serve there, answers
/// 405 with an `Allow` header naming the methods it does serve, rather than 404.
enum MethodNotAllowed {
    /// The methods answered with 405 where a path does not serve them; any other method stays 404.
    static let methods: [HTTPRequest.Method] = [
        .get, .head, .post, .put, .patch, .delete, .options, .trace, HTTPRequest.Method("QUERY")!,
    ]

    /// Adds to `router`, for every path it serves, a responder for each of `methods` it does not
    /// serve there. Call it after every route is added, on the router itself: the 405 needs no key.
    static func refuseUnservedMethods(on router: Router<SpeechContext>) {
        for routes in Dictionary(grouping: router.routes, by: \.path.description).values {
            let served = routes.map(\.method)
            let allow = served.map(\.rawValue).sorted().joined(separator: ", ")
            for method in methods where !served.contains(method) {
                router.on(routes[0].path, method: method) { request, _ -> Response in
                    throw APIError(
                        .methodNotAllowed,
                        "Method \(request.method) is not allowed on \(request.uri.path); allowed: \(allow)",
                        type: "method_not_allowed", headers: [.allow: allow])
                }
            }
        }
    }
}
