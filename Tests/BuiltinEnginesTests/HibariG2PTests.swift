import Foundation
import Testing

@testable import BuiltinEngines

/// hibari's own G2P against hibari-tts 0.2.1's: each line's phonemes as printed by
/// `python -c 'from hibari.g2p import G2P; g = G2P(); print(repr(g(line)))'` (its OOV model
/// reading the unknown words). A recorded fact about hibari's contract.
enum HibariG2PReference {
    static let lines: [(text: String, phonemes: String)] = [
        ("Hello there, how are you today?", "həlˈO ðˈɛɹ, hˌW ɑɹ ju tədˈA?"),
        (
            "I read 3 books yesterday; now I read a 4th one.",
            "ˌI ɹˈɛd θɹˈi bˈʊks jˈɛstəɹdˌA; nˈW ˌI ɹˈɛd ɐ fˈɔɹθ wˈʌn."
        ),
        ("Lead the way to the lead mine.", "lˈid ðə wˈA tə ðə lˈid mˈIn."),
        (
            "The price rose from $5.50 to £12 on Jan. 5th, 2021.",
            "ðə pɹˈIs ɹˈOz fɹʌm fˈIv dˈɑləɹz ænd fˈɪfti sˈɛnts tə twˈɛlv pˈWndz ˌɔn ʤˈænjəwˌɛɹi fˈɪfθ, "
                + "twˈɛnti twˈɛnti wˈʌn."
        ),
        (
            "Dr. Smith lives at 221 Baker St. with Mr. Jones.",
            "dˈɑktəɹ smˈɪθ lˈɪvz æt tˈu hˈʌndɹəd twˈɛnti wˈʌn bˈAkəɹ stɹˈit wɪð mˈɪstəɹ ʤˈOnz."
        ),
        (
            "It costs ¥300, about 2.5 km away at 10:30 am.",
            "ˌɪt kˈɔsts θɹˈi hˈʌndɹəd jˈɛn, əbˈWt tˈu pYnt fˈIv kəlˈɑməTəɹz əwˈA æt tˈɛn θˈɜɹTi ˌAˈɛm"
        ),
        (
            "In 1984, 1,234 people paid 15% more — roughly 3.14 times.",
            "ɪn nˌIntˈin ˈATi fˈɔɹ, wˈʌn θˈWzᵊnd tˈu hˈʌndɹəd θˈɜɹTi fˈɔɹ pˈipᵊl pˈAd fˌɪftˈin pəɹsˈɛnt mˈɔɹ — "
                + "ɹˈʌfli θɹˈi pYnt wˈʌn fˈɔɹ tˈImz."
        ),
        ("We'll record a new record; don't you think so?!", "wˌil ɹəkˈɔɹd ɐ nˈu ɹˈɛkəɹd; dˈOnt ju θˈɪŋk sˌO?!"),
        (
            "The quizzaciously frumptable glorp wandered off.",
            "ðə kwɪzˈAʃəsli fɹˈʌmptəbᵊl ɡlˈɔɹp wˈɑndəɹd ˈɔf."
        ),
        (
            "NASA and the U.S.A. met at 7 p.m. on 12/25/2023.",
            "nˈæsə ænd ðə jˌuˌɛsˈA mˈɛt æt sˈɛvən pˌiˈɛm ˌɔn disˈɛmbəɹ twˈɛntifˌɪfθ, twˈɛnti twˈɛnti θɹˈi."
        ),
        ("\"Wait...\" she said. (Really?) Yes: absolutely!", "wˈAt... ʃi sˈɛd. (ɹˈiᵊli?) jˈɛs: ˈæbsəlˌutli!"),
        ("Chapter IV begins with King Henry VIII.", "ʧˈæptəɹ fˈɔɹ bəɡˈɪnz wɪð kˈɪŋ hˈɛnɹi ði ˈAθ."),
    ]
}

/// The same with British English: `G2P(british=True)` (misaki's British lexicon, suffix rules and
/// OOV model, which hibari's British voices emma and fable read with).
enum HibariBritishG2PReference {
    static let lines: [(text: String, phonemes: String)] = [
        ("Hello there, how are you today?", "həlˈQ ðˈɛː, hˌW ɑː juː tədˈA?"),
        (
            "Dr. Smith lives at 221 Baker St. with Mr. Jones.",
            "dˈɒktə smˈɪθ lˈɪvz at tˈuː hˈʌndɹəd twˈɛnti wˈʌn bˈAkə stɹˈiːt wɪð mˈɪstə ʤˈQnz."
        ),
        (
            "It costs ¥300, about 2.5 km away at 10:30 am.",
            "ˌɪt kˈɒsts θɹˈiː hˈʌndɹəd jˈɛn, əbˈWt tˈuː pYnt fˈIv kˈɪləmˌiːtəz əwˈA at tˈɛn θˈɜːti ˌAˈɛm"
        ),
        ("We'll record a new record; don't you think so?!", "wˌiːl ɹɪkˈɔːd ɐ njˈuː ɹˈɛkɔːd; dˈQnt juː θˈɪŋk sˌQ?!"),
        ("The quizzaciously frumptable glorp wandered off.", "ðə kwɪzˈAʃəsli fɹˈʌmptəbᵊl ɡlˈɔːp wˈɒndəd ˈɒf."),
        (
            "The water in the garden was better than the butter; she hated it, and he's waiting for the buses.",
            "ðə wˈɔːtə ɪn ðə ɡˈɑːdᵊn wɒz bˈɛtə ðən ðə bˈʌtə; ʃiː hˈAtɪd ɪt, and hiːz wˈAtɪŋ fɔː ðə bˈʌsɪz."
        ),
        (
            "After the party, they started dancing and laughed at the tomatoes.",
            "ˈɑːftə ðə pˈɑːti, ðA stˈɑːtɪd dˈɑːnsɪŋ and lˈɑːft at ðə təmˈɑːtQz."
        ),
    ]
}

@Suite(.enabled(if: HibariFixture.installation != nil, "hibari is not installed (scripts/install-hibari)"))
struct HibariG2PTests {
    static func phonemizer() async throws -> HibariPhonemizer {
        try await HibariFixture.engine.value.phonemizer
    }

    @Test func phonemesMatchHibarisOwnG2P() async throws {
        let phonemizer = try await Self.phonemizer()
        let g2p = try #require(phonemizer.g2p, "hibari's G2P data loaded")
        let oov = try #require(phonemizer.oov, "hibari's OOV model loaded")
        for (text, expected) in HibariG2PReference.lines {
            let phonemes = g2p.phonemes(of: text) { try? oov.phonemes(of: $0) ?? nil }
            #expect(phonemes == expected, "\(text)")
        }
    }

    @Test func britishPhonemesMatchHibarisOwnBritishG2P() throws {
        let installation = try #require(HibariFixture.installation)
        let g2p = try HibariG2P(assets: installation.assetsDirectory, accent: .british)
        let oov = try HibariOOV(
            runtime: try OnnxRuntime(libraryPath: installation.runtimeLibraryPath),
            model: installation.oovModelPath(for: .british))
        for (text, expected) in HibariBritishG2PReference.lines {
            #expect(g2p.phonemes(of: text) { try? oov.phonemes(of: $0) ?? nil } == expected, "\(text)")
        }
    }

    /// hibari's markup: `[word](/phonemes/)` reads the word as written between the slashes;
    /// a link of another form reads its text. Expected: hibari's `G2P()` on each line.
    @Test func markupSetsAWordsPhonemes() async throws {
        let phonemizer = try await Self.phonemizer()
        let g2p = try #require(phonemizer.g2p)
        let oov = try #require(phonemizer.oov)
        let lines = [
            ("I love [Kokoro](/kˈOkəɹO/) voices.", "ˌI lˈʌv kˈOkəɹO vˈYsᵻz."),
            ("Say [tomato](/təmˈɑːtQ/), not tomato!", "sˈA təmˈɑːtQ, nˌɑt təmˈATO!"),
            ("A [link](http://x.y) here.", "ɐ lˈɪŋk hˈɪɹ."),
            ("[[a](/bˈi/) and [b] (c).", "bˈi ænd bˈi (sˈi)."),
        ]
        for (text, expected) in lines {
            #expect(g2p.phonemes(of: text) { try? oov.phonemes(of: $0) ?? nil } == expected, "\(text)")
        }
    }

    /// What the model is given: the reference's phonemes as ids, pads at both ends (eSpeak NG
    /// alone read "3" and "4th" otherwise).
    @Test func theModelReadsHibarisPhonemes() async throws {
        let phonemizer = try await Self.phonemizer()
        let (text, expected) = HibariG2PReference.lines[1]
        let ids = try await phonemizer.pieces(in: text)
        #expect(ids == [[0] + expected.unicodeScalars.compactMap { phonemizer.vocabulary[$0] } + [0]])
    }

    @Test func aHomographIsReadByItsPartOfSpeech() async throws {
        let g2p = try #require(try await Self.phonemizer().g2p)
        let phonemes = g2p.phonemes(of: "We'll record a new record.") { _ in nil }
        #expect(phonemes == "wˌil ɹəkˈɔɹd ɐ nˈu ɹˈɛkəɹd.", "the verb, then the noun")
    }

    @Test func unknownWordsAreReadByTheOOVModelOrElseByESpeakNG() async throws {
        var phonemizer = try await Self.phonemizer()
        let g2p = try #require(phonemizer.g2p)
        #expect(
            g2p.unknownWords(in: "The quizzaciously frumptable glorp wandered off.") == [
                "glorp", "frumptable", "quizzaciously",
            ])
        // hibari's OOV model on each word: `G2P().oov(word)`.
        #expect(
            try await phonemizer.unknownWordReadings(["glorp", "frumptable", "glorp"]) == [
                "glorp": "ɡlˈɔɹp", "frumptable": "fɹˈʌmptəbᵊl",
            ])
        phonemizer.oov = nil
        let ipa = try await phonemizer.espeak.phonemize(["glorp"], voice: "en-us", tie: "^")
        let espeak = String(String.UnicodeScalarView(HibariPhonemizer.kokoro(fromEspeak: ipa[0], accent: .american)))
        #expect(!espeak.isEmpty)
        #expect(try await phonemizer.unknownWordReadings(["glorp"]) == ["glorp": espeak])
    }

    /// Without hibari's data (or where its OOV model fails) eSpeak NG reads the words, in the
    /// voice's accent: a British voice's "road" has misaki's British "Q", an American one's "O".
    @Test func eSpeakReadsABritishVoicesWordsInBritishEnglish() async throws {
        let engine = try await HibariFixture.engine.value
        func phonemes(_ accent: HibariAccent) async throws -> String {
            let phonemizer = HibariPhonemizer(espeak: engine.phonemizer.espeak, vocabulary: engine.phonemizer.vocabulary, accent: accent)
            let clauses = try await phonemizer.espeakClauses(in: "The road is near; her hair.")
            return clauses.map { String(String.UnicodeScalarView($0.phonemes)) }.joined(separator: " ")
        }
        let british = try await phonemes(.british)
        let american = try await phonemes(.american)
        #expect(british.contains("ɹˈQd") && !british.contains("O"), "\(british)")
        #expect(british.contains("nˈɪə") && british.contains("hˈɛː"), "\(british)")
        #expect(american.contains("ɹˈOd") && !american.contains("Q") && !american.contains("ː"), "\(american)")
    }

    @Test func sentencesAreCutAsHibariCutsThem() async throws {
        let g2p = try #require(try await Self.phonemizer().g2p)
        #expect(
            g2p.sentences(in: "Dr. Smith met J. K. Rowling. She smiled! \"Why?\" asked he.\n\nA new one")
                == ["Dr. Smith met J. K. Rowling.", "She smiled!", "\"Why?\" asked he.", "A new one"])
    }
}
