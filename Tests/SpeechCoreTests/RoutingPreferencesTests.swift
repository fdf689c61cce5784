import SpeechCore
import Testing

private func parsed(_ provider: String) throws(SpeechError) -> RoutingPreferences {
    try SpeechRequest.parse(json: Array(#"{"model":"m","input":"Hi.","provider":\#(provider)}"#.utf8)).routing
}

private func refusal(_ provider: String) -> SpeechError? {
    do {
        _ = try parsed(provider)
        return nil
    } catch {
        return error
    }
}

@Suite struct RoutingPreferencesTests {
    @Test func everyFieldIsRead() throws {
        let preferences = try parsed("""
            {"order": ["OpenAI/Box-A", "mistral"], "only": ["openai"], "ignore": ["google"], "allow_fallbacks": false,
             "sort": "latency", "max_price": {"prompt": "12.5", "completion": 0}, "data_collection": "deny", "zdr": true}
            """)
        #expect(preferences.order == ["openai/box-a", "mistral"])
        #expect(preferences.only == ["openai"])
        #expect(preferences.ignore == ["google"])
        #expect(!preferences.allowFallbacks)
        #expect(preferences.sort == .latency)
        #expect(preferences.maxPromptPrice == 12.5)
        #expect(preferences.denyDataCollection && preferences.zeroDataRetention)
        #expect(try parsed(#"{"sort": {"by": "price", "partition": "none"}}"#).sort == .price)
        #expect(try parsed("{}") == RoutingPreferences())
    }

    @Test func badValuesAreRefusedByName() {
        let cases: [(String, String)] = [
            (#"{"order": "openai"}"#, "provider.order"),
            (#"{"only": [""]}"#, "provider.only"),
            (#"{"ignore": [1]}"#, "provider.ignore"),
            (#"{"sort": "fastest"}"#, "provider.sort"),
            (#"{"sort": {"partition": "none"}}"#, "provider.sort.by"),
            (#"{"max_price": {"prompt": -1}}"#, "provider.max_price.prompt"),
            (#"{"max_price": {"prompt": 1e300}}"#, "provider.max_price.prompt"),
            (#"{"max_price": {"tokens": 1}}"#, "provider.max_price.tokens"),
            (#"{"max_price": 3}"#, "provider.max_price"),
            (#"{"data_collection": "maybe"}"#, "provider.data_collection"),
            (#"{"zdr": "yes"}"#, "provider.zdr"),
            (#"{"allow_fallbacks": 1}"#, "provider.allow_fallbacks"),
        ]
        for (provider, field) in cases {
            guard case .invalidField(let name, _)? = refusal(provider) else {
                Issue.record("\(provider) was taken")
                continue
            }
            #expect(name == field, "\(provider)")
        }
        let many = "[" + Array(repeating: #""openai""#, count: 65).joined(separator: ",") + "]"
        #expect(refusal(#"{"order": \#(many)}"#) != nil)
    }
}
