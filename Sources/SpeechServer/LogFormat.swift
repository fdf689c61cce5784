/// How log lines are written.
public enum LogFormat: String, Sendable, Decodable, CaseIterable {
    /// swift-log's text lines, for people.
    case text
    /// One JSON object per line, for log shippers.
    case json
}
