import Foundation

/// A `multipart/form-data` body (RFC 7578): text fields and files, in order.
struct MultipartForm: Sendable {
    let boundary = "speechrouter-\(UUID().uuidString)"
    private(set) var bytes: [UInt8] = []

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func add(field name: String, value: String) {
        part(disposition: #"form-data; name="\#(name)""#, contentType: nil, body: Array(value.utf8))
    }

    mutating func add(file name: String, filename: String, contentType: String, data: [UInt8]) {
        part(disposition: #"form-data; name="\#(name)"; filename="\#(filename)""#, contentType: contentType, body: data)
    }

    /// The body with its closing delimiter.
    var body: [UInt8] { bytes + Array("--\(boundary)--\r\n".utf8) }

    private mutating func part(disposition: String, contentType: String?, body: [UInt8]) {
        var head = "--\(boundary)\r\nContent-Disposition: \(disposition)\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        bytes += Array((head + "\r\n").utf8) + body + Array("\r\n".utf8)
    }
}
