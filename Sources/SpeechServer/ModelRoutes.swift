import Foundation
import Hummingbird
import SpeechCore

/// `GET /models` and `GET /models/{author}/{slug}` in OpenRouter's Model shape.
struct ModelRoutes: Sendable {
    let catalog: ModelCatalog

    func list(_ request: Request, context: SpeechContext) async throws -> Response {
        let requested = (request.uri.queryParameters.get("output_modalities") ?? "text")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let matches = requested.contains("all") || requested.contains("speech")
        let models = matches ? catalog.models.map { Self.json(for: $0, aliases: catalog.aliases(of: $0.id)) } : []
        return jsonResponse(.object([
            "data": .array(models),
            "total_count": .number(Double(models.count)),
            "links": .object(["next": .null]),
        ]))
    }

    func show(_ request: Request, context: SpeechContext) async throws -> Response {
        let author = try context.parameters.require("author")
        let slug = try context.parameters.require("slug")
        guard let model = catalog.model(id: "\(author)/\(slug)") else {
            throw APIError(.notFound, "Model \(author)/\(slug) does not exist", type: "not_found")
        }
        return jsonResponse(.object(["data": Self.json(for: model, aliases: catalog.aliases(of: model.id))]))
    }

    /// A model in OpenRouter's shape. Aliases are not models of their own: their target's
    /// description names them.
    static func json(for model: SpeechModel, aliases: [String]) -> JSONValue {
        var description = model.description
        if !aliases.isEmpty {
            description += " Also answers to \(aliases.joined(separator: ", "))."
        }
        return .object([
            "id": .string(model.id),
            "canonical_slug": .string(model.id),
            "name": .string(model.name),
            "created": .number(Double(model.created)),
            "description": .string(description),
            "context_length": .number(Double(model.contextLength)),
            "architecture": .object([
                "modality": .string("text->speech"),
                "input_modalities": .array([.string("text")]),
                "output_modalities": .array([.string("speech")]),
                "tokenizer": .string("Other"),
                "instruct_type": .null,
            ]),
            "pricing": .object(["prompt": .string(model.pricePerCharacter), "completion": .string("0")]),
            "top_provider": .object([
                "context_length": .number(Double(model.contextLength)),
                "max_completion_tokens": .null,
                "is_moderated": .bool(false),
            ]),
            "per_request_limits": .null,
            "supported_parameters": .array(model.supportedParameters.map(JSONValue.string)),
            "default_parameters": .object(["voice": .string(model.defaultVoice)]),
            "supported_voices": .array(model.voices.map(JSONValue.string)),
            "links": .object(["details": .string("/api/v1/models/\(model.id)/endpoints")]),
        ])
    }
}

func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: value.encodedBuffer()))
}
