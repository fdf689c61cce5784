/// The tests hibari's G2P makes of text, with Python's meanings, over code points (hibari counts
/// and slices code points, not grapheme clusters).
extension Unicode.Scalar {
    /// Python's `str.isalpha` for one code point: a letter of any category.
    var isLetter: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    /// Python's `str.isdigit`: a decimal digit or another digit (superscripts, circled digits).
    var isDigit: Bool { properties.numericType == .decimal || properties.numericType == .digit }
    var isASCIIDigit: Bool { value >= 0x30 && value <= 0x39 }
    var isCasedUpper: Bool { properties.isUppercase || properties.generalCategory == .titlecaseLetter }
    var isCasedLower: Bool { properties.isLowercase }
}

extension StringProtocol {
    var scalarCount: Int { unicodeScalars.count }
    /// Python's `isalpha`: not empty, every code point a letter.
    var isAlphabetic: Bool { !isEmpty && unicodeScalars.allSatisfy(\.isLetter) }
    /// Python's `isdigit`.
    var isDigits: Bool { !isEmpty && unicodeScalars.allSatisfy(\.isDigit) }
    /// hibari's `is_digit`: ASCII digits only, at least one.
    var isASCIIDigits: Bool { !isEmpty && unicodeScalars.allSatisfy(\.isASCIIDigit) }
    /// Python's `islower`: some cased code point, none of them upper or title case.
    var isLowercased: Bool {
        unicodeScalars.contains(where: \.isCasedLower) && !unicodeScalars.contains(where: \.isCasedUpper)
    }
    /// Python's `isupper`.
    var isUppercased: Bool {
        unicodeScalars.contains(where: \.isCasedUpper) && !unicodeScalars.contains(where: \.isCasedLower)
    }
    /// Python's `capitalize`: the first code point in title case, the rest lower case.
    var capitalizedFirst: String {
        guard let first = unicodeScalars.first else { return "" }
        return first.properties.titlecaseMapping + String(String.UnicodeScalarView(unicodeScalars.dropFirst())).lowercased()
    }
    /// The last `count` code points.
    func suffixScalars(_ count: Int) -> String { String(String.UnicodeScalarView(unicodeScalars.suffix(count))) }
    func dropFirstScalars(_ count: Int) -> String { String(String.UnicodeScalarView(unicodeScalars.dropFirst(count))) }
    func dropLastScalars(_ count: Int) -> String { String(String.UnicodeScalarView(unicodeScalars.dropLast(count))) }
}
