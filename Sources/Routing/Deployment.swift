/// One place that serves a model: a provider at an address, with what routing weighs about it.
/// The network side (the provider itself) stays with the caller; this is the routing view.
public struct Deployment: Sendable, Equatable {
    /// Unique in the gateway: the model's id and the deployment's tag.
    public var id: String
    /// The model it serves (the gateway's id).
    public var model: String
    /// The slug requests name it by in `provider.order/only/ignore`: the provider kind
    /// (`openai`), or the kind and a variant (`openai/box-a`), which the kind alone also matches.
    public var tag: String
    /// USD per input character, as billed by this deployment.
    public var pricePerCharacter: Double
    /// Relative share of traffic among deployments of the same price (default 1).
    public var weight: Double
    /// The most streams it is sent at once; nil: no limit of ours.
    public var maxConcurrentStreams: Int?
    /// It keeps no request data (Zero Data Retention).
    public var zeroDataRetention: Bool
    /// It may store or train on requests.
    public var collectsData: Bool

    public init(
        model: String, tag: String, pricePerCharacter: Double, weight: Double = 1, maxConcurrentStreams: Int? = nil,
        zeroDataRetention: Bool = false, collectsData: Bool = true
    ) {
        self.id = "\(model) \(tag)"
        self.model = model
        self.tag = tag
        self.pricePerCharacter = pricePerCharacter
        self.weight = weight
        self.maxConcurrentStreams = maxConcurrentStreams
        self.zeroDataRetention = zeroDataRetention
        self.collectsData = collectsData
    }

    /// OpenRouter's slug matching: a base slug (`openai`) matches each of its variants
    /// (`openai/box-a`); a full slug matches that deployment only. Case-insensitive.
    public func matches(_ slug: String) -> Bool {
        let tag = tag.lowercased()
        let slug = slug.lowercased()
        return tag == slug || tag.hasPrefix(slug + "/")
    }

    /// USD per million input characters: the unit of `max_price.prompt`.
    public var pricePerMillionCharacters: Double { pricePerCharacter * 1_000_000 }
}
