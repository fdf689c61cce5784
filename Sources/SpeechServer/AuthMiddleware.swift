import Accounts
import Foundation
import Hummingbird
import SpeechCore

/// Requires `Authorization: Bearer <key>` and puts the key on the context.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SpeechContext
    let store: any AccountStore

    func handle(_ request: Request, context: SpeechContext, next: (Request, SpeechContext) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization] else { throw SpeechError.missingKey }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw SpeechError.missingKey }
        let secret = KeySecret(parts[1].trimmingCharacters(in: .whitespaces))
        guard let key = try await store.authenticate(secret) else { throw SpeechError.invalidKey }
        var context = context
        context.key = key
        return try await next(request, context)
    }
}
