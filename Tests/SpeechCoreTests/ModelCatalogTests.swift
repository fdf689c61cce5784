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
}
