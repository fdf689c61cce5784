import Foundation
import Testing
import Accounts
import Routing

@testable import SpeechServer

/// The error `json` is refused with, or nil when it loads.
func refusal(_ json: String) -> String? {
    do {
        _ = try GatewayConfiguration.parse(Data(json.utf8))
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite struct GatewayConfigurationTests {
    @Test func theFilesSnakeCaseKeysFillTheCamelCaseProperties() throws {
        let configuration = try GatewayConfiguration.parse(Data("""
            {"models": {"local/flite": {"price_per_character": "0.000001", "context_length": 4096,
                                        "default_voice": "slt", "supports_speed": false,
                                        "endpoints": [{"provider": "openai", "model": "tts-1"}]}},
             "rate_limit": {"requests": 600, "interval_seconds": 60},
             "upstream_timeouts": {"connect_seconds": 2.5, "first_byte_seconds": 20}}
            """.utf8))
        let flite = try #require(configuration.models["local/flite"])
        #expect(flite.pricePerCharacter == "0.000001")
        #expect(flite.contextLength == 4096)
        #expect(flite.defaultVoice == "slt")
        #expect(flite.supportsSpeed == false)
        #expect(flite.endpoints == [.init(provider: "openai", model: "tts-1")])
        #expect(configuration.rateLimit == .init(requests: 600, intervalSeconds: 60))
        #expect(configuration.defaultRateLimit?.interval == 60)
        #expect(configuration.upstreamTimeouts == .init(connectSeconds: 2.5, firstByteSeconds: 20))
        #expect(try GatewayConfiguration.parse(Data("{}".utf8)) == GatewayConfiguration())
    }

    @Test func anUnparsablePriceIsRefusedByName() {
        #expect(refusal(#"{"models": {"local/flite": {"price_per_character": "cheap"}}}"#)
            == #"models.local/flite.price_per_character: "cheap" is not a USD amount from 0 to 1 in whole billionths"#)
        #expect(refusal(#"{"models": {"local/flite": {"price_per_character": "0.0000000001"}}}"#)?
            .hasPrefix("models.local/flite.price_per_character:") == true, "finer than a billionth")
        #expect(refusal(#"{"models": {"local/flite": {"price_per_character": 0.001}}}"#)
            == "models.local/flite.price_per_character must be a string")
    }

    @Test func aContextLengthBelowOneIsRefused() {
        #expect(refusal(#"{"models": {"local/flite": {"context_length": 0}}}"#)
            == "models.local/flite.context_length must be from 1 to 1048576 characters, not 0")
        #expect(refusal(#"{"models": {"local/flite": {"context_length": -5}}}"#)
            == "models.local/flite.context_length must be from 1 to 1048576 characters, not -5")
        #expect(refusal(#"{"models": {"local/flite": {"context_length": 1}}}"#) == nil)
        #expect(refusal(#"{"models": {"local/flite": {"context_length": "4096"}}}"#)
            == "models.local/flite.context_length must be a whole number")
        // Foundation reports a fraction where a whole number belongs as invalid JSON, without a path.
        #expect(refusal(#"{"models": {"local/flite": {"context_length": 2.5}}}"#) != nil)
    }

    @Test func connectionLimitsComeFromTheFileAndAreRangeChecked() throws {
        let configuration = try GatewayConfiguration.parse(Data("""
            {"connections": {"max_open": 20, "header_timeout_seconds": 2.5, "idle_timeout_seconds": 90,
                             "write_timeout_seconds": 5}}
            """.utf8))
        #expect(
            try configuration.connectionLimits
                == ConnectionLimits(
                    maxOpen: 20, headerTimeout: .milliseconds(2_500), idleTimeout: .seconds(90), writeTimeout: .seconds(5)))
        #expect(try GatewayConfiguration().connectionLimits == ConnectionLimits())
        #expect(try GatewayConfiguration.parse(Data(#"{"connections": {"idle_timeout_seconds": 7}}"#.utf8)).connectionLimits
            == ConnectionLimits(idleTimeout: .seconds(7)))
        #expect(refusal(#"{"connections": {"max_open": 0}}"#)
            == "connections.max_open must be between 1 and 100000 connections, not 0")
        #expect(refusal(#"{"connections": {"max_open": 100001}}"#)
            == "connections.max_open must be between 1 and 100000 connections, not 100001")
        for (name, seconds) in [
            ("header_timeout_seconds", "0"), ("idle_timeout_seconds", "-1"), ("write_timeout_seconds", "3601"),
            ("write_timeout_seconds", "1e300"),
        ] {
            #expect(refusal(#"{"connections": {"\#(name)": \#(seconds)}}"#)?
                .hasPrefix("connections.\(name) must be more than 0 and at most 3600 seconds") == true, "\(name) \(seconds)")
        }
        #expect(refusal(#"{"connections": {"write_timeout_seconds": "30"}}"#)
            == "connections.write_timeout_seconds must be a number")
    }

    @Test func theBreakerComesFromTheFileAndIsRangeChecked() throws {
        let configuration = try GatewayConfiguration.parse(Data("""
            {"breaker": {"consecutive_failures": 5, "error_rate": 0.25, "minimum_samples": 20, "window": 100,
                         "cooldown_seconds": 0.5, "maximum_cooldown_seconds": 30}}
            """.utf8))
        var expected = HealthPolicy()
        expected.consecutiveFailures = 5
        expected.errorRateThreshold = 0.25
        expected.minimumSamples = 20
        expected.window = 100
        expected.cooldown = .milliseconds(500)
        expected.maximumCooldown = .seconds(30)
        #expect(try configuration.healthPolicy == expected)
        #expect(try GatewayConfiguration().healthPolicy == HealthPolicy())
        #expect(refusal(#"{"breaker": {"consecutive_failures": 0}}"#)
            == "breaker.consecutive_failures must be from 1 to 10000, not 0")
        #expect(refusal(#"{"breaker": {"error_rate": 1.5}}"#) == "breaker.error_rate must be more than 0 and at most 1, not 1.5")
        #expect(refusal(#"{"breaker": {"error_rate": 0}}"#) == "breaker.error_rate must be more than 0 and at most 1, not 0.0")
        #expect(refusal(#"{"breaker": {"minimum_samples": 60}}"#)?.hasPrefix("breaker.minimum_samples (60) must not exceed") == true)
        #expect(refusal(#"{"breaker": {"cooldown_seconds": 1e300}}"#)?
            .hasPrefix("breaker.cooldown_seconds must be from 0.001 to 86400 seconds") == true)
        #expect(refusal(#"{"breaker": {"cooldown_seconds": 90}}"#)
            == "breaker.cooldown_seconds must not exceed breaker.maximum_cooldown_seconds")
        #expect(refusal(#"{"breaker": {"window": "50"}}"#) == "breaker.window must be a whole number")
    }

    @Test func aRateLimitBelowOneRequestIsRefused() {
        #expect(refusal(#"{"rate_limit": {"requests": 0, "interval_seconds": 60}}"#)
            == "rate_limit.requests must be between 1 and 1000000000, not 0")
        #expect(refusal(#"{"rate_limit": {"requests": -3, "interval_seconds": 60}}"#)
            == "rate_limit.requests must be between 1 and 1000000000, not -3")
        #expect(refusal(#"{"rate_limit": {"requests": 1, "interval_seconds": 60}}"#) == nil)
        #expect(refusal(#"{"rate_limit": {"interval_seconds": 60}}"#) == "rate_limit.requests is required")
    }

    @Test func aRateLimitIntervalThatIsNotPositiveIsRefused() throws {
        #expect(refusal(#"{"rate_limit": {"requests": 10, "interval_seconds": 0}}"#)
            == "rate_limit.interval_seconds must be between 1 and 31622400 seconds, not 0.0")
        #expect(refusal(#"{"rate_limit": {"requests": 10, "interval_seconds": -1}}"#)
            == "rate_limit.interval_seconds must be between 1 and 31622400 seconds, not -1.0")
        // JSON has no NaN or infinity; a configuration built in code can.
        for interval in [Double.nan, .infinity] {
            let configuration = GatewayConfiguration(rateLimit: .init(requests: 10, intervalSeconds: interval))
            #expect(throws: ConfigurationError.self) { try configuration.validate() }
        }
    }

    @Test func hugeOrTinyNumbersAreRefusedByName() {
        #expect(refusal(#"{"models": {"local/flite": {"price_per_character": "100000000000"}}}"#)
            == #"models.local/flite.price_per_character: "100000000000" is not a USD amount from 0 to 1 in whole billionths"#)
        #expect(refusal(#"{"models": {"local/flite": {"price_per_character": "1"}}}"#) == nil)
        #expect(refusal(#"{"models": {"local/flite": {"context_length": 9000000000000}}}"#)
            == "models.local/flite.context_length must be from 1 to 1048576 characters, not 9000000000000")
        #expect(refusal(#"{"rate_limit": {"requests": 10000000000, "interval_seconds": 60}}"#)
            == "rate_limit.requests must be between 1 and 1000000000, not 10000000000")
        #expect(refusal(#"{"rate_limit": {"requests": 10, "interval_seconds": 1e300}}"#)
            == "rate_limit.interval_seconds must be between 1 and 31622400 seconds, not 1e+300")
        #expect(refusal(#"{"rate_limit": {"requests": 10, "interval_seconds": 0.001}}"#) != nil)
        #expect(refusal(#"{"rate_limit": {"requests": 10, "interval_seconds": 31622400}}"#) == nil)
        #expect(refusal(#"{"rate_limit": {"requests": 1e30, "interval_seconds": 60}}"#) != nil)
    }

    @Test func timeoutsThatAreNotPositiveOrAreHugeAreRefused() throws {
        for field in ["connect_seconds", "first_byte_seconds"] {
            for (value, shown) in [("0", "0.0"), ("-2", "-2.0"), ("1e300", "1e+300"), ("3600.5", "3600.5")] {
                #expect(refusal(#"{"upstream_timeouts": {"\#(field)": \#(value)}}"#)
                    == "upstream_timeouts.\(field) must be more than 0 and at most 3600 seconds, not \(shown)")
            }
            #expect(refusal(#"{"upstream_timeouts": {"\#(field)": 3600}}"#) == nil)
            #expect(refusal(#"{"upstream_timeouts": {"\#(field)": 0.25}}"#) == nil)
            #expect(refusal(#"{"upstream_timeouts": {"\#(field)": "5"}}"#) == "upstream_timeouts.\(field) must be a number")
        }
        for seconds in [Double.nan, .infinity, -.infinity] {
            let configuration = GatewayConfiguration(upstreamTimeouts: .init(firstByteSeconds: seconds))
            #expect(throws: ConfigurationError.self) { try configuration.validate() }
        }
    }

    @Test func aFileThatIsNotJSONIsRefused() {
        #expect(refusal("{\"models\": ")?.hasPrefix("the file:") == true)
        #expect(refusal(#"{"models": []}"#)?.hasPrefix("models is of the wrong type:") == true)
    }

    @Test func admissionSettingsAreReadAndRangeChecked() throws {
        let configuration = try GatewayConfiguration.parse(Data("""
            {"models": {"local/piper": {"max_concurrent_streams": 8}},
             "admission": {"measured": false, "max_streams_per_key": 3}}
            """.utf8))
        #expect(configuration.models["local/piper"]?.maxConcurrentStreams == 8)
        #expect(configuration.admission == .init(measured: false, maxStreamsPerKey: 3))
        #expect(refusal(#"{"models": {"local/piper": {"max_concurrent_streams": 0}}}"#)
            == "models.local/piper.max_concurrent_streams must be from 1 to 100000 streams, not 0")
        #expect(refusal(#"{"admission": {"max_streams_per_key": 100001}}"#)
            == "admission.max_streams_per_key must be from 1 to 100000 streams, not 100001")
        #expect(refusal(#"{"admission": {"max_streams_per_key": -1}}"#) != nil)
        #expect(refusal(#"{"admission": {"measured": "no"}}"#) == "admission.measured must be true or false")
    }
}
