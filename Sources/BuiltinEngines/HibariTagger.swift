/// hibari's part-of-speech tagger (its tagger.py): an averaged perceptron over Penn Treebank
/// tags, trained on spaCy's tags, which picks the lexicon's reading of a homograph ("read",
/// "lead", "live") and the function-word rules. A word with one dominant tag is answered from
/// the tag dictionary, every other from the weights of its features.
struct HibariTagger: Sendable {
    struct Model: Decodable {
        var tagdict: [String: String]
        var tags: [String]
        var vocab: [String]?
        var weights: [String: [String: Double]]
    }

    private struct Weight: Sendable {
        var tag: Int
        var value: Double
    }

    private let tagDictionary: [String: String]
    private let tags: [String]
    private let vocabulary: Set<String>?
    private let weights: [String: [Weight]]

    static let start = ["-START2-", "-START-"]
    static let end = ["-END-", "-END2-"]

    init(model: Model) {
        tagDictionary = model.tagdict
        tags = model.tags
        vocabulary = model.vocab.map(Set.init)
        let index = Dictionary(model.tags.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        weights = model.weights.mapValues { byTag in
            byTag.compactMap { tag, value in index[tag].map { Weight(tag: $0, value: value) } }
        }
    }

    /// One tag for each of `words`.
    func tags(of words: [String]) -> [String] {
        let context =
            Self.start
            + words.map { word in
                let normalized = Self.normalized(word)
                return vocabulary.map { $0.contains(normalized) } ?? true ? normalized : "<\(Self.shape(word))>"
            } + Self.end
        var (previous, beforePrevious) = (Self.start[1], Self.start[0])
        var result: [String] = []
        for (index, word) in words.enumerated() {
            let tag = tagDictionary[word] ?? predict(Self.features(index, word, context, previous, beforePrevious))
            result.append(tag)
            (beforePrevious, previous) = (previous, tag)
        }
        return result
    }

    /// The highest-scoring tag (ties to the greater tag name, as hibari's `max` breaks them), "NN"
    /// when no feature has weights.
    private func predict(_ features: [String]) -> String {
        var scores = [Double](repeating: 0, count: tags.count)
        var scored = false
        for feature in features {
            guard let featureWeights = weights[feature], !featureWeights.isEmpty else { continue }
            scored = true
            for weight in featureWeights { scores[weight.tag] += weight.value }
        }
        guard scored else { return "NN" }
        var best = 0
        for index in tags.indices.dropFirst()
        where (scores[index], tags[index]) > (scores[best], tags[best]) {
            best = index
        }
        return tags[best]
    }

    static func normalized(_ word: String) -> String {
        if word.contains("-") && !word.hasPrefix("-") { return "!HYPHEN" }
        if word.isDigits && word.scalarCount == 4 { return "!YEAR" }
        if word.unicodeScalars.first?.isDigit ?? false { return "!DIGITS" }
        return word.lowercased()
    }

    static func shape(_ word: String) -> String {
        if word.isAlphabetic {
            if word.isLowercased { return "x" }
            if word.isUppercased { return word.scalarCount > 1 ? "XX" : "X1" }
            if word.unicodeScalars.first.map({ String($0).isUppercased }) ?? false
                && word.dropFirstScalars(1).isLowercased
            {
                return "Xx"
            }
            return "xX"
        }
        if word.isDigits { return "d" }
        return String(
            String.UnicodeScalarView(
                word.unicodeScalars.prefix(4).map { $0.isDigit ? "d" : $0.isLetter ? "x" : $0 }))
    }

    /// `context` is start marks, the normalized words and end marks, so `context[index + 2]` is
    /// the current word.
    static func features(_ index: Int, _ word: String, _ context: [String], _ previous: String, _ beforePrevious: String)
        -> [String]
    {
        let at = index + 2
        let first = word.unicodeScalars.first.map { String($0) } ?? ""
        return [
            "b", "s3=" + word.suffixScalars(3), "p1=" + first, "w=" + context[at], "sh=" + shape(word),
            index == 0 ? "i0" : "i+", "t-1=" + previous, "t-2=" + beforePrevious,
            "t-12=" + previous + "," + beforePrevious, "w-1=" + context[at - 1],
            "s3-1=" + context[at - 1].suffixScalars(3), "w-2=" + context[at - 2], "w+1=" + context[at + 1],
            "s3+1=" + context[at + 1].suffixScalars(3), "w+2=" + context[at + 2],
        ]
    }
}
