// swift-tools-version:6.2
import PackageDescription

// Swift 6 mode with the upcoming features Hummingbird itself builds with: `any` spelled out,
// members visible only through modules imported here, and imports internal unless marked public.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

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
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian's -dev packages; each target is a module map and a shim header.
        .systemLibrary(name: "CFlite", path: "Sources/CFlite"),
        .systemLibrary(name: "CEspeakNG", path: "Sources/CEspeakNG", pkgConfig: "espeak-ng"),
        .systemLibrary(name: "CLame", path: "Sources/CLame", pkgConfig: "lame"),
        .systemLibrary(name: "CSoxr", path: "Sources/CSoxr", pkgConfig: "soxr"),
        .systemLibrary(name: "COpus", path: "Sources/COpus", pkgConfig: "opus"),
        .systemLibrary(name: "COgg", path: "Sources/COgg", pkgConfig: "ogg"),
        .systemLibrary(name: "CFLAC", path: "Sources/CFLAC", pkgConfig: "flac"),
        .systemLibrary(name: "CAVCodec", path: "Sources/CAVCodec", pkgConfig: "libavcodec"),
        .systemLibrary(name: "CSQLite3", path: "Sources/CSQLite3", pkgConfig: "sqlite3"),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3f"),
        // glibc's malloc.h: returning freed memory to the system once a load ends.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // ONNX Runtime's C API for local/hibari and local/piper: declarations only, the library is dlopened at run time.
        .systemLibrary(name: "COnnxRuntime", path: "Sources/COnnxRuntime"),
        // zlib, for hibari's gzip-compressed lexicons and tagger.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),

        // Any JSON value, spoken by both the server's modules and the client library.
        .target(name: "JSONValue", swiftSettings: strict),
        .target(
            name: "SpeechCore",
            dependencies: [
                "JSONValue",
            ],
            swiftSettings: strict),
        .target(
            name: "AudioPipeline",
            dependencies: [
                "SpeechCore",
                "CLame",
                "CSoxr",
                "COpus",
                "COgg",
                "CFLAC",
                "CAVCodec",
            ],
            swiftSettings: strict),
        .target(
            name: "BuiltinEngines",
            dependencies: [
                "SpeechCore",
                "CFlite",
                "CEspeakNG",
                "CFFTW",
                "COnnxRuntime",
                "CZlib",
                "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            // ThreadRandom's `rand`, exported so that Flite's calls bind to it (see that file).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic-symbol=rand"])]),
        .target(
            name: "Accounts",
            dependencies: [
                "CSQLite3",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .target(
            name: "Providers",
            dependencies: [
                "SpeechCore",
                "AudioPipeline",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The shipped upstream models, a table compiled into the binary.
            resources: [.embedInCode("Resources/upstream-models.json")],
            swiftSettings: strict),
        // Deployments of upstream models, their health (a breaker per deployment over an injected
        // clock) and the choice among them for each request: pure values, no I/O.
        .target(
            name: "Routing",
            dependencies: [
                "SpeechCore",
            ],
            swiftSettings: strict),
        // The speech cache: content-addressed audio on disk, LRU under a size limit, and one
        // synthesis shared by concurrent identical requests.
        .target(
            name: "SpeechCache",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(
            name: "SpeechServer",
            dependencies: [
                "JSONValue",
                "CMalloc",
                "SpeechCache",
                "SpeechCore",
                "AudioPipeline",
                "Accounts",
                "Providers",
                "Routing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The OpenAPI document served at /openapi.json, compiled into the binary. The file is
            // docs/openapi.json; Resources/openapi.json is a symbolic link to it. The page served
            // at / is Resources/web, compiled in the same way.
            resources: [
                .embedInCode("Resources/openapi.json"),
                .embedInCode("Resources/web/index.html"),
                .embedInCode("Resources/web/app.js"),
                .embedInCode("Resources/web/style.css"),
            ],
            swiftSettings: strict),
        // The client library speaks HTTP and shares only the JSONValue module with the server.
        .target(
            name: "SpeechRouterClient",
            dependencies: [
                "JSONValue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "speechrouter",
            dependencies: [
                "SpeechCore",
                "AudioPipeline",
                "BuiltinEngines",
                "Accounts",
                "SpeechServer",
                "SpeechCache",
                "Providers",
                "Routing",
                "SpeechRouterClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),

        .testTarget(
            name: "SpeechCacheTests",
            dependencies: [
                "SpeechCache",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RoutingTests",
            dependencies: [
                "Routing",
                "SpeechCore",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SpeechCoreTests",
            dependencies: [
                "SpeechCore",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "AudioPipelineTests",
            dependencies: [
                "AudioPipeline",
                "SpeechCore",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "BuiltinEnginesTests",
            dependencies: [
                "BuiltinEngines",
                "AudioPipeline",
                "SpeechCore",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ProvidersTests",
            dependencies: [
                "Providers",
                "Routing",
                "SpeechServer",
                "Accounts",
                "AudioPipeline",
                "SpeechCache",
                "SpeechCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "AccountsTests",
            dependencies: [
                "Accounts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SpeechServerTests",
            dependencies: [
                "SpeechServer",
                "Providers",
                "Routing",
                "Accounts",
                "BuiltinEngines",
                "SpeechCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SpeechRouterClientTests",
            dependencies: [
                "SpeechRouterClient",
                "SpeechServer",
                "SpeechCache",
                "BuiltinEngines",
                "Accounts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
    ]
)
