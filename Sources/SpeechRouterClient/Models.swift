extension SpeechRouter {
    /// The model list, as `@openrouter/sdk`'s `models`.
    public struct Models: Sendable {
        let client: SpeechRouter

        /// `GET /models`. Speech models are listed for `"speech"` or `"all"` (and, by this
        /// server, with no filter at all); OpenRouter's own default is text models only, so this
        /// asks for speech unless told otherwise.
        public func list(outputModalities: String = "speech") async throws -> [Model] {
            try await client.get("/models", query: ["output_modalities": outputModalities])
        }

        /// `GET /models/{author}/{slug}`; a 404 `APIError` for an unknown id.
        public func get(id: String) async throws -> Model {
            try await client.get("/models/" + id)
        }
    }
}
