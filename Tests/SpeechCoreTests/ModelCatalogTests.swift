import Testing

@testable import SpeechCore

@Suite struct ModelCatalogTests {
    let catalog = ModelCatalog(models: [
        SpeechModel(
            id: "local/a", name: "A", description: "", created: 0, contextLength: 10, pricePerCharacter: "0",
            voices: ["en-us", "de"], defaultVoice: "en-us", supportsSpeed: true, voiceVariants: ["f3", "m1"])
    ])

    @Test func omittedVoiceFallsBackToTheDefault() throws {
        #expect(try catalog.resolve(SpeechRequest(model: "local/a", input: "hi")).voice == "en-us")
    }

    @Test func variantsAreAcceptedOnlyOnKnownVoices() throws {
        #expect(try catalog.resolve(SpeechRequest(model: "local/a", input: "hi", voice: "de+m1")).voice == "de+m1")
        #expect(throws: SpeechError.unknownVoice(model: "local/a", voice: "xx+m1", available: ["en-us", "de"])) {
            try catalog.resolve(SpeechRequest(model: "local/a", input: "hi", voice: "xx+m1"))
        }
        #expect(throws: SpeechError.unknownVoice(model: "local/a", voice: "de+zz", available: ["en-us", "de"])) {
            try catalog.resolve(SpeechRequest(model: "local/a", input: "hi", voice: "de+zz"))
        }
    }

    @Test func unknownModelAndLongInputAreRejected() {
        #expect(throws: SpeechError.unknownModel("nope/x")) {
            try catalog.resolve(SpeechRequest(model: "nope/x", input: "hi"))
        }
        #expect(throws: SpeechError.inputTooLong(model: "local/a", limit: 10, actual: 11)) {
            try catalog.resolve(SpeechRequest(model: "local/a", input: "12345678901"))
        }
    }

    static func model(_ id: String) -> SpeechModel {
        SpeechModel(
            id: id, name: id, description: "", created: 0, contextLength: 100, pricePerCharacter: "0",
            voices: ["alloy"], defaultVoice: "alloy", supportsSpeed: true)
    }

    @Test func openAIModelNamesGoToHibariWhenItIsServed() throws {
        let catalog = ModelCatalog(models: ["local/espeak-ng", "local/flite", "local/hibari", "local/piper"].map(Self.model))
        for name in ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"] {
            #expect(try catalog.resolve(SpeechRequest(model: name, input: "hi", voice: "alloy")).model.id == "local/hibari")
        }
        #expect(catalog.aliases(of: "local/hibari") == ["gpt-4o-mini-tts", "tts-1", "tts-1-hd"])
        #expect(catalog.aliases(of: "local/piper") == [])
    }

    @Test func openAIModelNamesGoToPiperWithoutHibari() throws {
        let catalog = ModelCatalog(models: ["local/espeak-ng", "local/flite", "local/piper"].map(Self.model))
        for name in ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"] {
            let resolved = try catalog.resolve(SpeechRequest(model: name, input: "hi", voice: "alloy"))
            #expect(resolved.model.id == "local/piper")
            #expect(resolved.request.model == name)
        }
        #expect(catalog.aliases(of: "local/piper") == ["gpt-4o-mini-tts", "tts-1", "tts-1-hd"])
        #expect(catalog.models.map(\.id) == ["local/espeak-ng", "local/flite", "local/piper"], "aliases are no models")
    }

    @Test func openAIModelNamesGoToFliteWithoutPiper() throws {
        let catalog = ModelCatalog(models: ["local/espeak-ng", "local/flite"].map(Self.model))
        #expect(try catalog.resolve(SpeechRequest(model: "tts-1", input: "hi")).model.id == "local/flite")
        #expect(catalog.aliases(of: "local/flite") == ["gpt-4o-mini-tts", "tts-1", "tts-1-hd"])
        #expect(catalog.model(id: "tts-1") == nil, "an alias is not a model id")
    }

    @Test func openAIModelNamesAreUnknownWithoutABuiltinTarget() {
        let catalog = ModelCatalog(models: [Self.model("local/espeak-ng")])
        #expect(catalog.aliases.isEmpty)
        #expect(throws: SpeechError.unknownModel("tts-1")) { try catalog.resolve(SpeechRequest(model: "tts-1", input: "hi")) }
    }

    @Test func explicitAliasesOnlyPointAtServedModels() throws {
        let catalog = ModelCatalog(
            models: [Self.model("local/flite")], aliases: ["tts-1": "local/flite", "tts-1-hd": "local/gone"])
        #expect(catalog.aliases == ["tts-1": "local/flite"])
        #expect(catalog.model(named: "tts-1-hd") == nil)
    }
}
