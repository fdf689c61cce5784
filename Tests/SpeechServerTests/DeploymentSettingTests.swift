import Foundation
import Providers
import Routing
import SpeechCore
import Testing

@testable import SpeechServer

/// A model `test/fleet` with `deployments` (JSON), as a configuration file holds it.
private func fleet(_ deployments: String) -> String {
    #"{"models": {"test/fleet": {"voices": ["alloy"], "deployments": \#(deployments)}}}"#
}

@Suite struct DeploymentSettingTests {
    @Test func aModelListsDeploymentsWithEveryField() async throws {
        let configuration = try GatewayConfiguration.parse(Data(fleet("""
            [{"provider": "openai", "tag": "openai/box-a", "name": "Box A", "base_url": "http://127.0.0.1:9001/v1",
              "api_key_env": "BOX_A_KEY", "model": "kokoro", "weight": 3, "price_per_character": "0.000002",
              "max_concurrent_streams": 8, "zdr": true, "data_collection": false},
             {"provider": "openai", "tag": "openai/box-b", "api_key_env": "BOX_B_KEY", "model": "kokoro"}]
            """).utf8))
        let settings = try #require(configuration.models["test/fleet"]?.deployments)
        #expect(settings.count == 2)
        #expect(settings[0].name == "Box A")
        let first = settings[0].deployment(of: "test/fleet", modelPrice: "0.000001")
        #expect(first.tag == "openai/box-a" && first.weight == 3 && first.pricePerCharacter == 0.000002)
        #expect(first.maxConcurrentStreams == 8 && first.zeroDataRetention && !first.collectsData)
        let second = settings[1].deployment(of: "test/fleet", modelPrice: "0.000001")
        #expect(second.weight == 1 && second.pricePerCharacter == 0.000001 && !second.zeroDataRetention && second.collectsData)

        // A model of its own with deployments and voices is served.
        let client = UpstreamClient()
        let providers = try configuration.deploymentProviders(
            environment: ["BOX_A_KEY": "a-secret", "BOX_B_KEY": "b-secret"], client: client)
        try await client.shutdown()
        #expect(Set(providers.keys) == [first.id, second.id])
        #expect(providers[first.id]?.name == "Box A")
        #expect(configuration.upstreamModels(defaults: []).map(\.model.id) == ["test/fleet"])
    }

    @Test func aMissingKeyIsAnErrorAtStartThatNamesTheVariableNotAValue() async throws {
        let configuration = try GatewayConfiguration.parse(Data(fleet(
            #"[{"provider": "openai", "api_key_env": "BOX_A_KEY", "model": "kokoro"}]"#).utf8))
        let client = UpstreamClient()
        for environment in [["OTHER": "x"], ["BOX_A_KEY": "  "]] {
            do {
                _ = try configuration.deploymentProviders(environment: environment, client: client)
                Issue.record("a missing key was taken")
            } catch {
                #expect("\(error)" == "models.test/fleet.deployments[0].api_key_env: the environment variable BOX_A_KEY is not set")
            }
        }
        try await client.shutdown()
    }

    @Test func everyFieldIsCheckedAndNamedByItsPath() {
        let base = #""api_key_env": "K", "model": "m""#
        let cases: [(String, String)] = [
            (#"[{"provider": "acme", \#(base)}]"#, "models.test/fleet.deployments[0].provider must be one of openai, azure, mistral, elevenlabs, google, not \"acme\""),
            (#"[{"provider": "openai", \#(base), "weight": 0}]"#, "models.test/fleet.deployments[0].weight must be more than 0 and at most 1000000, not 0.0"),
            (#"[{"provider": "openai", \#(base), "weight": 1e9}]"#, "models.test/fleet.deployments[0].weight must be more than 0 and at most 1000000, not 1000000000.0"),
            (#"[{"provider": "openai", \#(base), "max_concurrent_streams": 0}]"#, "models.test/fleet.deployments[0].max_concurrent_streams must be from 1 to 100000 streams, not 0"),
            (#"[{"provider": "openai", \#(base), "price_per_character": "-1"}]"#, "models.test/fleet.deployments[0].price_per_character: \"-1\" is not a USD amount from 0 to 1 in whole billionths"),
            (#"[{"provider": "openai", \#(base), "base_url": "ftp://x"}]"#, "models.test/fleet.deployments[0].base_url must be an http:// or https:// URL"),
            (#"[{"provider": "openai", "api_key_env": "sk-live-123", "model": "m"}]"#, "models.test/fleet.deployments[0].api_key_env must name an environment variable (letters, digits, '_'), not hold the key itself"),
            (#"[{"provider": "openai", \#(base), "tag": "a b"}]"#, "models.test/fleet.deployments[0].tag must be 1 to 64 letters, digits, '-', '.', '_' or '/', such as \"openai/box-a\""),
            (#"[{"provider": "openai", \#(base)}, {"provider": "openai", \#(base)}]"#, "models.test/fleet.deployments[1]: another deployment is tagged \"openai\"; give each a distinct tag"),
            ("[]", "models.test/fleet.deployments must list 1 to 64 deployments, not 0"),
            (#"[{"provider": "openai", "model": "m"}]"#, "models.test/fleet.deployments[0].api_key_env is required"),
            (#"[{"provider": "openai", \#(base), "zdr": "yes"}]"#, "models.test/fleet.deployments[0].zdr must be true or false"),
        ]
        for (deployments, expected) in cases {
            #expect(refusal(fleet(deployments)) == expected)
        }
        #expect(
            refusal(#"{"models": {"x/y": {"endpoints": [{"provider": "openai", "model": "m"}], "deployments": [{"provider": "openai", \#(base)}]}}}"#)
                == "models.x/y lists both endpoints and deployments: use deployments only")
    }

    @Test func aRoutingStrategyIsOneOfFourAndOrdersDeployments() throws {
        let deployments = #"[{"provider": "openai", "api_key_env": "K", "model": "m"}]"#
        func configuration(_ strategy: String) -> String {
            #"{"models": {"test/fleet": {"voices": ["alloy"], "routing_strategy": "\#(strategy)", "deployments": \#(deployments)}}}"#
        }
        for strategy in RoutingStrategy.allCases {
            let parsed = try GatewayConfiguration.parse(Data(configuration(strategy.rawValue).utf8))
            #expect(parsed.models["test/fleet"]?.routingStrategy == strategy)
        }
        #expect(
            refusal(configuration("fastest"))
                == #"models.test/fleet.routing_strategy must be one of "balanced", "least-busy", "latency", "ordered", not "fastest""#)
        #expect(
            refusal(#"{"models": {"local/flite": {"routing_strategy": "latency"}}}"#)
                == "models.local/flite.routing_strategy orders deployments: list them under deployments")
    }
}
