import Foundation
// Requests carry `provider.options` as JSON values; every user of SpeechCore speaks them.
@_exported public import JSONValue

/// A parsed, shape-checked body of `POST /audio/speech`. Model and voice are checked later,
/// against the catalog, by `ModelCatalog.resolve`.
public struct SpeechRequest: Sendable, Equatable {
    /// The model tried first: `model`, or without it the first of `models`.
    public var model: String
    /// `models`, OpenRouter's model fallbacks, as listed (duplicates dropped): tried in order
    /// after `model` when the one before fails before its first audio.
    public var listedModels: [String] = []
    public var input: String
    public var voice: String?
    public var responseFormat: AudioFormat
    /// `stream_format`: the audio as the body, or as server-sent events.
    public var streamFormat = StreamFormat.audio
    public var speed: Double
    /// `provider.options`, keyed by provider slug; only the matched provider's object is forwarded.
    public var providerOptions: [String: JSONValue]
    public var instructions: String?
    /// `provider.order/only/ignore/allow_fallbacks/sort/max_price/data_collection/zdr`: which of
    /// the model's deployments may serve, in which order.
    public var routing = RoutingPreferences()
    /// `provider.allow_fallbacks`: whether a failed upstream may hand over to the model's next one.
    public var allowFallbacks: Bool {
        get { routing.allowFallbacks }
        set { routing.allowFallbacks = newValue }
    }
    /// `input_references`: a voice to clone; only models whose providers clone take it.
    public var references: VoiceReferences?
    /// `return_timestamps` (Kokoro-FastAPI's name): time each word, for the built-in models.
    public var returnTimestamps = false

    public static let speedRange = 0.25...4.0
    /// The most model ids `models` may list.
    public static let maxListedModels = 8

    /// Every model the request may be served by, in the order they are tried, each once.
    public var models: [String] { [model] + listedModels.filter { $0 != model } }
    /// The longest `instructions` taken, in code points: OpenAI's own cap.
    public static let maxInstructionCharacters = 4_096

    public init(
        model: String, input: String, voice: String? = nil, responseFormat: AudioFormat = .pcm,
        speed: Double = 1.0, providerOptions: [String: JSONValue] = [:], instructions: String? = nil
    ) {
        self.model = model
        self.input = input
        self.voice = voice
        self.responseFormat = responseFormat
        self.speed = speed
        self.providerOptions = providerOptions
        self.instructions = instructions
    }

    /// Parses and checks a JSON body. Unknown top-level keys are ignored, as OpenRouter does.
    public static func parse(json bytes: some Collection<UInt8>) throws(SpeechError) -> SpeechRequest {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw .malformedJSON(Self.describe(error))
        }
        guard case .object(let fields) = root else {
            throw .malformedJSON("the body must be a JSON object")
        }

        let listed = try modelList(in: fields)
        // OpenRouter's `model` may be left out when `models` names the models to try.
        let omitted = fields["model"] == nil || fields["model"] == .null
        let model: String
        if let first = listed.first, omitted {
            model = first
        } else {
            model = try requiredString("model", in: fields)
        }
        guard case .string(let input)? = fields["input"] else {
            throw fields["input"] == nil || fields["input"] == .null
                ? .missingField("input") : .invalidField(name: "input", reason: "must be a string")
        }
        if input.allSatisfy(\.isWhitespace) {
            throw .invalidField(name: "input", reason: "must contain text to speak")
        }

        var request = SpeechRequest(model: model, input: input)
        request.listedModels = listed
        switch fields["voice"] {
        case nil, .null?: break
        case .string(let voice)?:
            guard !voice.isEmpty else { throw .invalidField(name: "voice", reason: "must not be empty") }
            request.voice = voice
        case .object(let custom)?:
            // OpenAI's custom-voice form {"id": "…"}.
            guard case .string(let id)? = custom["id"], !id.isEmpty else {
                throw .invalidField(name: "voice", reason: "must be a string or an object with a string \"id\"")
            }
            request.voice = id
        default:
            throw .invalidField(name: "voice", reason: "must be a string")
        }

        let formats = AudioFormat.allCases.map(\.rawValue).joined(separator: ", ")
        if let name = try optional("response_format", in: fields, mustBe: "one of \(formats)", \.stringValue) {
            guard let format = AudioFormat(rawValue: name) else { throw .unsupportedFormat(name) }
            request.responseFormat = format
        }
        let streamFormats = StreamFormat.allCases.map(\.rawValue).joined(separator: " or ")
        if let name = try optional("stream_format", in: fields, mustBe: streamFormats, \.stringValue) {
            guard let format = StreamFormat(rawValue: name) else {
                throw .invalidField(name: "stream_format", reason: "must be \(streamFormats), got '\(name)'")
            }
            request.streamFormat = format
        }
        if let speed = try optional("speed", in: fields, mustBe: "a number between 0.25 and 4.0", \.numberValue) {
            guard speedRange.contains(speed) else {
                throw .invalidField(name: "speed", reason: "must be between 0.25 and 4.0, got \(speed)")
            }
            request.speed = speed
        }
        if let provider = try optional("provider", in: fields, mustBe: "an object", \.objectValue) {
            request.routing = try RoutingPreferences.parse(provider)
            if let options = try optional(
                "options", in: provider, of: "provider.", mustBe: "an object keyed by provider slug", \.objectValue)
            {
                for (slug, value) in options where value.objectValue == nil {
                    throw .invalidField(name: "provider.options.\(slug)", reason: "must be an object")
                }
                if case .string(let text)? = options["openai"]?.objectValue?["instructions"] {
                    try checkInstructions(text, name: "provider.options.openai.instructions")
                }
                request.providerOptions = options
            }
        }
        if let timed = try optional("return_timestamps", in: fields, mustBe: "a boolean", \.boolValue) {
            request.returnTimestamps = timed
        }
        if let text = try optional("instructions", in: fields, mustBe: "a string", \.stringValue) {
            try checkInstructions(text, name: "instructions")
            request.instructions = text
        }
        if let value = fields["input_references"], value != .null {
            request.references = try VoiceReferences.parse(json: Data(bytes))
        }
        return request
    }

    /// `models`: an array of 1 to `maxListedModels` model ids, duplicates dropped; empty when absent.
    private static func modelList(in fields: [String: JSONValue]) throws(SpeechError) -> [String] {
        let requirement = "must be an array of 1 to \(maxListedModels) model ids"
        guard let value = fields["models"], value != .null else { return [] }
        guard case .array(let items) = value, (1...maxListedModels).contains(items.count) else {
            throw .invalidField(name: "models", reason: requirement)
        }
        var ids: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let id) = item, !id.isEmpty else {
                throw .invalidField(name: "models", reason: "\(requirement); item \(index) is not a non-empty string")
            }
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    private static func checkInstructions(_ text: String, name: String) throws(SpeechError) {
        let count = text.unicodeScalars.count
        guard count <= maxInstructionCharacters else {
            throw .invalidField(
                name: name, reason: "must be at most \(maxInstructionCharacters) characters, got \(count)")
        }
    }

    /// Input length as clients count it: Unicode code points (Python's `len`, JavaScript's code points).
    public var characterCount: Int { input.unicodeScalars.count }

    /// The instructions an OpenAI-compatible upstream gets (`provider.options.openai.instructions`
    /// wins over the top-level field), in code points: text the upstream bills as well as the input.
    public var instructionCharacters: Int {
        if case .object(let options)? = providerOptions["openai"], case .string(let text)? = options["instructions"] {
            return text.unicodeScalars.count
        }
        return instructions?.unicodeScalars.count ?? 0
    }

    /// The field `key` of `fields` as `read` takes it, or nil when it is absent or null. A value
    /// `read` does not take is an `invalidField` named `path` + `key` that must be `kind`.
    private static func optional<Value>(
        _ key: String, in fields: [String: JSONValue], of path: String = "", mustBe kind: String,
        _ read: (JSONValue) -> Value?
    ) throws(SpeechError) -> Value? {
        guard let value = fields[key], value != .null else { return nil }
        guard let read = read(value) else { throw .invalidField(name: path + key, reason: "must be \(kind)") }
        return read
    }

    private static func requiredString(_ name: String, in fields: [String: JSONValue]) throws(SpeechError) -> String {
        switch fields[name] {
        case nil, .null?: throw .missingField(name)
        case .string(let value)?:
            guard !value.isEmpty else { throw .invalidField(name: name, reason: "must not be empty") }
            return value
        default: throw .invalidField(name: name, reason: "must be a string")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context):
                let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return underlying ?? context.debugDescription
            default: break
            }
        }
        return "the body is not valid JSON"
    }
}

extension JSONValue {
    fileprivate var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    fileprivate var numberValue: Double? { if case .number(let value) = self { value } else { nil } }
    fileprivate var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    fileprivate var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
}
