import Testing

@testable import SpeechCore

@Suite struct SpeechRequestTests {
    func parse(_ json: String) throws(SpeechError) -> SpeechRequest {
        try SpeechRequest.parse(json: Array(json.utf8))
    }

    func error(_ json: String) -> SpeechError? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            return error
        }
    }

    @Test func fullRequestParsesEveryField() throws {
        let request = try parse(
            """
            {"model":"local/flite","input":"Hi there","voice":"slt","response_format":"mp3","speed":1.5,
             "provider":{"options":{"openai":{"instructions":"warm"},"azure":{"style":"cheerful"}}},
             "instructions":"calm","unknown_field":[1,2]}
            """)
        #expect(request.model == "local/flite")
        #expect(request.input == "Hi there")
        #expect(request.voice == "slt")
        #expect(request.responseFormat == .mp3)
        #expect(request.speed == 1.5)
        #expect(request.providerOptions["openai"] == .object(["instructions": .string("warm")]))
        #expect(request.providerOptions["azure"] == .object(["style": .string("cheerful")]))
        #expect(request.instructions == "calm")
    }

    @Test func defaultsArePcmAtNormalSpeedWithNoVoice() throws {
        let request = try parse(#"{"model":"m","input":"x"}"#)
        #expect(request.responseFormat == .pcm)
        #expect(request.speed == 1.0)
        #expect(request.voice == nil)
    }

    @Test func openAICustomVoiceObjectIsAccepted() throws {
        #expect(try parse(#"{"model":"m","input":"x","voice":{"id":"slt"}}"#).voice == "slt")
    }

    @Test func eachBadFieldIsNamed() {
        #expect(error(#"{"input":"x"}"#) == .missingField("model"))
        #expect(error(#"{"model":"m"}"#) == .missingField("input"))
        #expect(error(#"{"model":"m","input":null}"#) == .missingField("input"))
        #expect(error(#"{"model":"","input":"x"}"#) == .invalidField(name: "model", reason: "must not be empty"))
        #expect(error(#"{"model":3,"input":"x"}"#) == .invalidField(name: "model", reason: "must be a string"))
        #expect(error(#"{"model":"m","input":7}"#) == .invalidField(name: "input", reason: "must be a string"))
        #expect(error(#"{"model":"m","input":"  \n "}"#) == .invalidField(name: "input", reason: "must contain text to speak"))
        #expect(error(#"{"model":"m","input":"x","voice":""}"#) == .invalidField(name: "voice", reason: "must not be empty"))
        #expect(error(#"{"model":"m","input":"x","voice":5}"#) == .invalidField(name: "voice", reason: "must be a string"))
        #expect(error(#"{"model":"m","input":"x","response_format":"ogg"}"#) == .unsupportedFormat("ogg"))
        #expect(error(#"{"model":"m","input":"x","stream_format":"chunks"}"#) == .invalidField(name: "stream_format", reason: "must be audio or sse, got 'chunks'"))
        #expect(error(#"{"model":"m","input":"x","stream_format":true}"#) == .invalidField(name: "stream_format", reason: "must be audio or sse"))
        #expect(error(#"{"model":"m","input":"x","speed":0.1}"#) == .invalidField(name: "speed", reason: "must be between 0.25 and 4.0, got 0.1"))
        #expect(error(#"{"model":"m","input":"x","speed":"fast"}"#) == .invalidField(name: "speed", reason: "must be a number between 0.25 and 4.0"))
        #expect(error(#"{"model":"m","input":"x","provider":[]}"#) == .invalidField(name: "provider", reason: "must be an object"))
        #expect(error(#"{"model":"m","input":"x","provider":{"options":{"openai":1}}}"#) == .invalidField(name: "provider.options.openai", reason: "must be an object"))
    }

    @Test func modelsListsTheFallbacksTriedAfterModelEachOnce() throws {
        let request = try parse(
            #"{"model":"a/one","models":["b/two","a/one","c/three","b/two"],"input":"x"}"#)
        #expect(request.model == "a/one")
        #expect(request.listedModels == ["b/two", "a/one", "c/three"])
        #expect(request.models == ["a/one", "b/two", "c/three"])
        #expect(try parse(#"{"model":"a/one","input":"x"}"#).models == ["a/one"])
        #expect(try parse(#"{"model":"a/one","models":null,"input":"x"}"#).models == ["a/one"])
    }

    @Test func withoutModelTheFirstOfModelsIsTriedFirst() throws {
        for body in [
            #"{"models":["b/two","c/three"],"input":"x"}"#, #"{"model":null,"models":["b/two","c/three"],"input":"x"}"#,
        ] {
            let request = try parse(body)
            #expect(request.model == "b/two")
            #expect(request.models == ["b/two", "c/three"])
        }
        #expect(error(#"{"models":null,"input":"x"}"#) == .missingField("model"))
    }

    @Test func aBadModelsListIsNamed() {
        let requirement = "must be an array of 1 to 8 model ids"
        let nine = (1...9).map { "\"m\($0)\"" }.joined(separator: ",")
        for models in [#""b/two""#, "[]", "[\(nine)]"] {
            #expect(
                error(#"{"model":"m","models":\#(models),"input":"x"}"#)
                    == .invalidField(name: "models", reason: requirement))
        }
        #expect(error(#"{"models":[],"input":"x"}"#) == .invalidField(name: "models", reason: requirement))
        #expect(
            error(#"{"model":"m","models":["ok",""],"input":"x"}"#)
                == .invalidField(name: "models", reason: "\(requirement); item 1 is not a non-empty string"))
        #expect(
            error(#"{"models":[3],"input":"x"}"#)
                == .invalidField(name: "models", reason: "\(requirement); item 0 is not a non-empty string"))
        #expect(
            error(#"{"model":"","models":["b"],"input":"x"}"#)
                == .invalidField(name: "model", reason: "must not be empty"))
    }

    @Test func malformedJSONAndNonObjectsAreRejected() {
        guard case .malformedJSON? = error(#"{"model":"#) else {
            Issue.record("truncated JSON was accepted")
            return
        }
        #expect(error("[1,2]") == .malformedJSON("the body must be a JSON object"))
    }

    @Test func openAIsSixFormatsAndBothStreamFormatsAreAccepted() throws {
        for format in ["mp3", "opus", "aac", "flac", "wav", "pcm"] {
            #expect(try parse(#"{"model":"m","input":"x","response_format":"\#(format)"}"#).responseFormat.rawValue == format)
        }
        #expect(try parse(#"{"model":"m","input":"x"}"#).streamFormat == .audio)
        #expect(try parse(#"{"model":"m","input":"x","stream_format":"sse"}"#).streamFormat == .sse)
        #expect(try parse(#"{"model":"m","input":"x","stream_format":"audio"}"#).streamFormat == .audio)
        #expect(try parse(#"{"model":"m","input":"x","stream_format":null}"#).streamFormat == .audio)
    }

    @Test func charactersAreCountedAsCodePoints() throws {
        #expect(try parse(#"{"model":"m","input":"héllo 👋🏽"}"#).characterCount == 8)
    }
}
