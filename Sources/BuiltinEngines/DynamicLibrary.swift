import SpeechCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A shared library opened at run time with `dlopen`, for C libraries that are installed beside
/// the server rather than linked into it (sherpa-onnx, ONNX Runtime). The library stays loaded
/// as long as this object lives, so whoever calls the functions it hands out keeps it alive.
///
/// Thread safety: `dlopen`, `dlsym` and `dlclose` are thread-safe (POSIX), and the handle never
/// changes after `init`.
// @unchecked: the handle is immutable and only passed to the thread-safe dl* functions.
final class DynamicLibrary: @unchecked Sendable {
    let path: String
    private let handle: UnsafeMutableRawPointer

    /// Opens the library at `path`, resolving all its symbols now (`RTLD_NOW`) so that a missing
    /// dependency fails here rather than at the first call. `RTLD_LOCAL` keeps its symbols out
    /// of the global namespace; pass `RTLD_GLOBAL` for a library others must resolve against.
    init(path: String, visibility: Int32 = RTLD_LOCAL) throws {
        guard let handle = dlopen(path, RTLD_NOW | visibility) else {
            throw SpeechError.engineFailure("cannot load \(path): \(Self.lastError())")
        }
        self.path = path
        self.handle = handle
    }

    deinit {
        dlclose(handle)
    }

    /// The function `name`, as `type`: a `@convention(c)` function type matching its C declaration
    /// (the C shims declare one pointer type per function for this).
    func symbol<Function>(_ name: String, as type: Function.Type = Function.self) throws -> Function {
        precondition(
            MemoryLayout<Function>.size == MemoryLayout<UnsafeRawPointer>.size,
            "\(Function.self) is not a C function pointer type")
        _ = dlerror()
        guard let address = dlsym(handle, name) else {
            throw SpeechError.engineFailure("\(path) has no symbol \(name): \(Self.lastError())")
        }
        return unsafeBitCast(address, to: Function.self)
    }

    private static func lastError() -> String {
        dlerror().map { String(cString: $0) } ?? "unknown error"
    }
}
