import Accounts
import Providers
import Hummingbird
import Logging
import NIOCore
import SpeechCore

/// Turns every error, on every route (unknown routes included), into OpenRouter's error JSON.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as SpeechError {
            return APIError(error).response()
        } catch let error as ProviderError {
            return APIError(error).response()
        } catch let error as BillingError {
            return APIError(error).response()
        } catch is NIOTooManyBytesError {
            return APIError(SpeechError.bodyTooLarge(limit: SpeechRoutes.maxBodyBytes)).response()
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                return APIError(.notFound, "Not found: \(request.method) \(request.uri.path)", type: "not_found")
                    .response()
            case .contentTooLarge:
                return APIError(SpeechError.bodyTooLarge(limit: SpeechRoutes.maxBodyBytes)).response()
            default:
                return APIError(error.status, error.body ?? error.status.reasonPhrase, type: "invalid_request")
                    .response()
            }
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, "Internal Server Error", type: "server").response()
        }
    }
}
