// swift-tools-version:6.2
import Foundation
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

// Piper (local/piper) runs on sherpa-onnx's C API from PyPI, which `scripts/install-piper` puts in
// .piper/. Without it the package builds as before and BuiltinEngines leaves PiperEngine out.
let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let sherpaDirectory = packageDirectory + "/.piper/sherpa_onnx"
let hasPiper = FileManager.default.fileExists(atPath: sherpaDirectory + "/include/sherpa-onnx/c-api/c-api.h")
let piperTargets: [Target] =
    hasPiper ? [.systemLibrary(name: "CSherpaOnnx", path: "Sources/CSherpaOnnx")] : []
let piperDependencies: [Target.Dependency] = hasPiper ? ["CSherpaOnnx"] : []
let piperSettings: [SwiftSetting] = hasPiper ? [.define("PIPER")] : []
let piperLinking: [LinkerSetting] =
    hasPiper
    ? [.unsafeFlags(["-L\(sherpaDirectory)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(sherpaDirectory)/lib"])]
    : []

let package = Package(
    name: "SpeechRouter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "speechrouter", targets: ["speechrouter"]),
        .library(name: "SpeechRouterClient", targets: ["SpeechRouterClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages; each target is a module map and a shim header.
        .systemLibrary(name: "CFlite", path: "Sources/CFlite"),
        .systemLibrary(name: "CEspeakNG", path: "Sources/CEspeakNG", pkgConfig: "espeak-ng"),
        .systemLibrary(name: "CLame", path: "Sources/CLame", pkgConfig: "lame"),
        .systemLibrary(name: "CSoxr", path: "Sources/CSoxr", pkgConfig: "soxr"),
        .systemLibrary(name: "CSQLite3", path: "Sources/CSQLite3", pkgConfig: "sqlite3"),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3f"),
        // ONNX Runtime's C API for local/hibari: declarations only, the library is dlopened at run time.
        .systemLibrary(name: "COnnxRuntime", path: "Sources/COnnxRuntime"),
    ] + piperTargets + [

        .target(name: "SpeechCore", swiftSettings: strict),
        .target(
            name: "AudioPipeline",
            dependencies: ["SpeechCore", "CLame", "CSoxr"],
            swiftSettings: strict),
        .target(
            name: "BuiltinEngines",
            dependencies: [
                "SpeechCore", "AudioPipeline", "CFlite", "CEspeakNG", "CFFTW", "COnnxRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ] + piperDependencies,
            swiftSettings: strict + piperSettings,
            linkerSettings: piperLinking),
        .target(
            name: "Accounts",
            dependencies: [
                "SpeechCore", "CSQLite3",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "Providers",
            dependencies: [
                "SpeechCore", "AudioPipeline",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .target(
            name: "SpeechServer",
            dependencies: [
                "SpeechCore", "AudioPipeline", "BuiltinEngines", "Accounts", "Providers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The client library stands alone: it speaks HTTP and shares no code with the server.
        .target(
            name: "SpeechRouterClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "speechrouter",
            dependencies: [
                "SpeechCore", "AudioPipeline", "BuiltinEngines", "Accounts", "SpeechServer", "Providers",
                "SpeechRouterClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict),

        .testTarget(name: "SpeechCoreTests", dependencies: ["SpeechCore"], swiftSettings: strict),
        .testTarget(
            name: "AudioPipelineTests", dependencies: ["AudioPipeline"], swiftSettings: strict),
        .testTarget(
            name: "BuiltinEnginesTests", dependencies: ["BuiltinEngines", "AudioPipeline"],
            swiftSettings: strict + piperSettings),
        .testTarget(
            name: "ProvidersTests",
            dependencies: [
                "Providers", "SpeechServer", "Accounts", "AudioPipeline",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(name: "AccountsTests", dependencies: ["Accounts"], swiftSettings: strict),
        .testTarget(
            name: "SpeechServerTests",
            dependencies: [
                "SpeechServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict + piperSettings),
        .testTarget(
            name: "SpeechRouterClientTests",
            dependencies: [
                "SpeechRouterClient", "SpeechServer", "BuiltinEngines", "Accounts",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
    ]
)
