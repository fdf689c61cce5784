import Foundation
import Hummingbird
import Routing
import SpeechCore

/// `GET /models`, `/models/count`, `/models/{author}/{slug}` (also `/model/{author}/{slug}` and,
/// percent-encoded, `/models/{id}`) and `/models/{author}/{slug}/endpoints`, in OpenRouter's shapes.
struct ModelRoutes: Sendable {
    let catalog: ModelCatalog
    /// The ways each model is served, by model id.
    let endpoints: [String: [ModelEndpoint]]
    /// The upstream deployments' health, shown with each endpoint.
    let health: FleetHealth

    func list(_ request: Request, context: SpeechContext) async throws -> OpenRouterModelList {
        OpenRouterModelList(listed(request).map(openRouterModel))
    }

    func count(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<ModelCount> {
        DataEnvelope(data: ModelCount(count: listed(request).count))
    }

    func show(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<OpenRouterModel> {
        DataEnvelope(data: openRouterModel(try model(context)))
    }

    /// `GET /models/{id}`, the id percent-encoded: OpenAI's `models.retrieve`, answered in
    /// OpenAI's shape (the model object itself, not in `data`).
    func retrieve(_ request: Request, context: SpeechContext) async throws -> OpenAIModelObject {
        let model = try model(context)
        return OpenAIModelObject(model: openRouterModel(model), ownedBy: model.id.split(separator: "/").first.map(String.init) ?? "")
    }

    func listEndpoints(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<OpenRouterEndpoints> {
        let model = try model(context)
        let listed = endpoints[model.id] ?? []
        let status = health.status(of: listed.compactMap(\.deployment?.id))
        return DataEnvelope(data: OpenRouterEndpoints(model, endpoints: listed, health: status))
    }

    /// Every model is a speech model: all of them unless `output_modalities` asks for other
    /// modalities only (OpenRouter's default, `text`, is not applied: a speech gateway lists its speech).
    private func listed(_ request: Request) -> [SpeechModel] {
        guard let filter = request.uri.queryParameters.get("output_modalities") else { return catalog.models }
        let requested = filter.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return requested.contains("all") || requested.contains("speech") ? catalog.models : []
    }

    /// The model the path names: `{author}/{slug}`, or a lone segment that is the whole id with
    /// its slash sent as `%2F` (the OpenAI SDK's `models.retrieve("local/flite")`).
    private func model(_ context: SpeechContext) throws -> SpeechModel {
        func decoded(_ text: some StringProtocol) -> String { text.removingPercentEncoding ?? String(text) }
        let author = decoded(try context.parameters.require("author"))
        let id = context.parameters.get("slug").map { "\(author)/\(decoded($0))" } ?? author
        guard let model = catalog.model(id: id) else {
            throw APIError(.notFound, "Model \(id) does not exist", type: "not_found")
        }
        return model
    }

    private func openRouterModel(_ model: SpeechModel) -> OpenRouterModel {
        OpenRouterModel(model, aliases: catalog.aliases(of: model.id))
    }
}

/// A model as OpenAI's `GET /models/{model}` returns it: OpenRouter's `Model` fields, and
/// OpenAI's `object` and `owned_by`, in one object.
struct OpenAIModelObject: ResponseEncodable, Sendable {
    var model: OpenRouterModel
    var ownedBy: String

    private struct OpenAIFields: Encodable {
        var object = "model"
        var ownedBy: String

        enum CodingKeys: String, CodingKey {
            case object
            case ownedBy = "owned_by"
        }
    }

    func encode(to encoder: any Encoder) throws {
        try model.encode(to: encoder)
        try OpenAIFields(ownedBy: ownedBy).encode(to: encoder)
    }
}

/// `GET /models/count`.
struct ModelCount: Encodable, Sendable {
    var count: Int
}
