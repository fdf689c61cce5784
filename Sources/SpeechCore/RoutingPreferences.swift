/// A request's `provider` routing object, with OpenRouter's semantics (ROUTING.md §1.1):
/// which of a model's deployments may serve it, and in which order they are tried.
public struct RoutingPreferences: Sendable, Equatable {
    /// `provider.sort`: tries deployments in this order instead of load balancing.
    public enum Sort: String, Sendable, CaseIterable {
        case price, latency, throughput
    }

    /// Provider slugs tried first, in this order (turns load balancing off for them).
    public var order: [String] = []
    /// When set, only deployments matching one of these slugs may serve.
    public var only: [String]?
    /// Deployments matching one of these slugs never serve.
    public var ignore: [String] = []
    /// `false`: only the first choice (or the `order` deployments) is tried.
    public var allowFallbacks = true
    public var sort: Sort?
    /// `max_price.prompt`: the most a deployment may charge, in USD per million input characters
    /// (the gateway bills characters where OpenRouter bills prompt tokens).
    public var maxPromptPrice: Double?
    /// `data_collection: "deny"`: only deployments that neither store nor train on requests.
    public var denyDataCollection = false
    /// `zdr: true`: only Zero-Data-Retention deployments.
    public var zeroDataRetention = false

    public init() {}

    /// The most slugs one list may hold, and the longest slug: far beyond any real fleet.
    public static let maxSlugs = 64
    public static let maxSlugLength = 128
    /// The highest `max_price` accepted, in USD per million: larger is no limit anyway.
    public static let maxPriceLimit = 1_000_000_000.0

    /// The routing fields of a `provider` object; `provider.options` is read by the caller.
    static func parse(_ fields: [String: JSONValue]) throws(SpeechError) -> RoutingPreferences {
        var preferences = RoutingPreferences()
        switch fields["allow_fallbacks"] {
        case nil, .null?: break
        case .bool(let allowed)?: preferences.allowFallbacks = allowed
        default: throw .invalidField(name: "provider.allow_fallbacks", reason: "must be a boolean")
        }
        preferences.order = try slugs("order", in: fields) ?? []
        preferences.only = try slugs("only", in: fields)
        preferences.ignore = try slugs("ignore", in: fields) ?? []
        switch fields["sort"] {
        case nil, .null?: break
        case .string(let name)?: preferences.sort = try sort(name, field: "provider.sort")
        case .object(let config)?:
            // `{by, partition}`: partition only matters across a `models` list, which is one model here.
            guard case .string(let name)? = config["by"] else {
                throw .invalidField(name: "provider.sort.by", reason: "must be price, latency or throughput")
            }
            preferences.sort = try sort(name, field: "provider.sort.by")
        default:
            throw .invalidField(name: "provider.sort", reason: "must be price, latency or throughput, or {\"by\": …}")
        }
        switch fields["max_price"] {
        case nil, .null?: break
        case .object(let prices)?:
            for (name, value) in prices.sorted(by: { $0.key < $1.key }) {
                guard ["prompt", "completion", "image", "audio", "request"].contains(name) else {
                    throw .invalidField(
                        name: "provider.max_price.\(name)", reason: "is not one of prompt, completion, image, audio, request")
                }
                let price = try self.price(value, field: "provider.max_price.\(name)")
                // Speech bills input characters only: the prompt price is the one that applies.
                if name == "prompt" { preferences.maxPromptPrice = price }
            }
        default: throw .invalidField(name: "provider.max_price", reason: "must be an object such as {\"prompt\": 20}")
        }
        switch fields["data_collection"] {
        case nil, .null?: break
        case .string("allow")?: break
        case .string("deny")?: preferences.denyDataCollection = true
        default: throw .invalidField(name: "provider.data_collection", reason: "must be \"allow\" or \"deny\"")
        }
        switch fields["zdr"] {
        case nil, .null?: break
        case .bool(let on)?: preferences.zeroDataRetention = on
        default: throw .invalidField(name: "provider.zdr", reason: "must be a boolean")
        }
        return preferences
    }

    private static func slugs(_ name: String, in fields: [String: JSONValue]) throws(SpeechError) -> [String]? {
        let field = "provider.\(name)"
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let items)?:
            guard items.count <= maxSlugs else {
                throw .invalidField(name: field, reason: "must list at most \(maxSlugs) providers, got \(items.count)")
            }
            var slugs: [String] = []
            for item in items {
                guard case .string(let slug) = item, !slug.isEmpty, slug.count <= maxSlugLength else {
                    throw .invalidField(
                        name: field, reason: "must be a list of provider slugs (strings of 1 to \(maxSlugLength) characters)")
                }
                slugs.append(slug.lowercased())
            }
            return slugs
        default: throw .invalidField(name: field, reason: "must be a list of provider slugs")
        }
    }

    private static func sort(_ name: String, field: String) throws(SpeechError) -> Sort {
        guard let sort = Sort(rawValue: name) else {
            throw .invalidField(name: field, reason: "must be price, latency or throughput, got '\(name.prefix(40))'")
        }
        return sort
    }

    /// A price as OpenRouter sends it: a number or a decimal string, from 0 to `maxPriceLimit`.
    private static func price(_ value: JSONValue, field: String) throws(SpeechError) -> Double {
        let number: Double? =
            switch value {
            case .number(let number): number
            case .string(let text): Double(text)
            default: nil
            }
        guard let number, number.isFinite, number >= 0, number <= maxPriceLimit else {
            throw .invalidField(name: field, reason: "must be a USD amount from 0 to \(Int(maxPriceLimit))")
        }
        return number
    }
}
