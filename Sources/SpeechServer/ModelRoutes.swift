import Foundation
import Hummingbird
import SpeechCore

/// `GET /models` and `GET /models/{author}/{slug}` in OpenRouter's Model shape.
struct ModelRoutes: Sendable {
    let catalog: ModelCatalog

    func list(_ request: Request, context: SpeechContext) async throws -> OpenRouterModelList {
        let requested = (request.uri.queryParameters.get("output_modalities") ?? "text")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let matches = requested.contains("all") || requested.contains("speech")
        return OpenRouterModelList(matches ? catalog.models.map(openRouterModel) : [])
    }

    func show(_ request: Request, context: SpeechContext) async throws -> DataEnvelope<OpenRouterModel> {
        let author = try context.parameters.require("author")
        let slug = try context.parameters.require("slug")
        guard let model = catalog.model(id: "\(author)/\(slug)") else {
            throw APIError(.notFound, "Model \(author)/\(slug) does not exist", type: "not_found")
        }
        return DataEnvelope(data: openRouterModel(model))
    }

    private func openRouterModel(_ model: SpeechModel) -> OpenRouterModel {
        OpenRouterModel(model, aliases: catalog.aliases(of: model.id))
    }
}
