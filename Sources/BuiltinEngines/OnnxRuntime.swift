import COnnxRuntime
import Foundation
import SpeechCore

/// ONNX Runtime, loaded at run time: `dlopen` of an installed `libonnxruntime.so`, `dlsym` of its
/// one entry point `OrtGetApiBase`, and every other call through the `OrtApi` function table
/// (`COnnxRuntime` declares the part of it we call). Nothing links against the library, so the
/// build needs neither it nor its header, and the process holds a single ONNX Runtime: the one
/// sherpa-onnx's package installs is the one file both hibari and Piper run on.
///
/// Thread safety: the API table and the environment are immutable and may be used from any
/// thread; ONNX Runtime allows concurrent `Run` calls on one session. The library stays loaded
/// for the life of the process, so there is no `dlclose`.
// @unchecked: holds C pointers that ONNX Runtime documents as safe to share between threads.
final class OnnxRuntime: @unchecked Sendable {
    let version: String
    fileprivate let api: OrtApi
    private let environment: OpaquePointer
    fileprivate let memoryInfo: OpaquePointer

    /// Loads the library at `libraryPath` and creates its environment.
    init(libraryPath: String) throws {
        guard let library = dlopen(libraryPath, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw SpeechError.engineFailure("ONNX Runtime could not be loaded from \(libraryPath): \(reason)")
        }
        guard let symbol = dlsym(library, "OrtGetApiBase") else {
            throw SpeechError.engineFailure("\(libraryPath) has no OrtGetApiBase")
        }
        let getApiBase = unsafeBitCast(symbol, to: OrtGetApiBaseFunction.self)
        guard let base = getApiBase(), let getApi = base.pointee.GetApi,
            let table = getApi(UInt32(ORT_API_VERSION_REQUESTED))
        else {
            throw SpeechError.engineFailure(
                "ONNX Runtime at \(libraryPath) does not offer API version \(ORT_API_VERSION_REQUESTED)")
        }
        api = table.pointee
        version = base.pointee.GetVersionString.flatMap { $0() }.map { String(cString: $0) } ?? "unknown"

        var environment: OpaquePointer?
        try Self.check(api, api.CreateEnv!(ORT_LOGGING_LEVEL_ERROR, "speechrouter", &environment))
        guard let environment else { throw SpeechError.engineFailure("ONNX Runtime returned no environment") }
        var memoryInfo: OpaquePointer?
        do {
            try Self.check(api, api.CreateCpuMemoryInfo!(OrtDeviceAllocator, OrtMemTypeDefault, &memoryInfo))
        } catch {
            api.ReleaseEnv!(environment)
            throw error
        }
        self.environment = environment
        self.memoryInfo = memoryInfo!
    }

    deinit {
        api.ReleaseMemoryInfo!(memoryInfo)
        api.ReleaseEnv!(environment)
    }

    /// Throws the message of a non-null status as `SpeechError.engineFailure`, releasing it.
    fileprivate static func check(_ api: OrtApi, _ status: OpaquePointer?) throws {
        guard let status else { return }
        let message = api.GetErrorMessage!(status).map { String(cString: $0) } ?? "unknown error"
        let code = api.GetErrorCode!(status)
        api.ReleaseStatus!(status)
        throw SpeechError.engineFailure("ONNX Runtime: \(message) (code \(code.rawValue))")
    }

    fileprivate func check(_ status: OpaquePointer?) throws {
        try Self.check(api, status)
    }

    /// Run options asking ONNX Runtime to shrink the CPU arena (device 0) when the run ends:
    /// its `memory.enable_memory_arena_shrinkage` run configuration entry.
    fileprivate func arenaReleasingRunOptions() throws -> OpaquePointer {
        var options: OpaquePointer?
        try check(api.CreateRunOptions!(&options))
        guard let options else { throw SpeechError.engineFailure("ONNX Runtime returned no run options") }
        do {
            try check(api.AddRunConfigEntry!(options, "memory.enable_memory_arena_shrinkage", "cpu:0"))
        } catch {
            api.ReleaseRunOptions!(options)
            throw error
        }
        return options
    }

    /// A status made by the library and read back: proves the start of the function table is
    /// laid out as `COnnxRuntime` declares it.
    func roundTripStatus(_ message: String) -> (code: UInt32, message: String)? {
        guard let status = api.CreateStatus!(ORT_INVALID_ARGUMENT, message) else { return nil }
        defer { api.ReleaseStatus!(status) }
        return (api.GetErrorCode!(status).rawValue, api.GetErrorMessage!(status).map { String(cString: $0) } ?? "")
    }

    /// Loads the model at `modelPath` with `threads` intra-op threads (1: every run computes on
    /// the calling thread alone), every graph optimization, and no memory pattern (inputs vary in
    /// length).
    func session(modelPath: String, threads: Int) throws -> OnnxSession {
        var options: OpaquePointer?
        try check(api.CreateSessionOptions!(&options))
        guard let options else { throw SpeechError.engineFailure("ONNX Runtime returned no session options") }
        defer { api.ReleaseSessionOptions!(options) }
        try check(api.SetIntraOpNumThreads!(options, Int32(threads)))
        try check(api.SetInterOpNumThreads!(options, 1))
        try check(api.SetSessionGraphOptimizationLevel!(options, ORT_ENABLE_ALL))
        // The memory pattern plans a run's allocations once per distinct input shape and keeps the
        // plan; hibari's input length differs nearly every run, so it would plan (tracing a run)
        // and keep a plan per length for nothing. The CPU arena still reuses the memory.
        try check(api.DisableMemPattern!(options))
        try check(api.SetSessionLogSeverityLevel!(options, Int32(ORT_LOGGING_LEVEL_ERROR.rawValue)))
        var session: OpaquePointer?
        try check(api.CreateSession!(environment, modelPath, options, &session))
        guard let session else { throw SpeechError.engineFailure("ONNX Runtime returned no session") }
        return OnnxSession(runtime: self, handle: session)
    }
}

/// A tensor passed to or returned from a session: values in row-major order and the shape.
enum OnnxTensor: Sendable {
    case int64([Int64], shape: [Int])
    case float([Float], shape: [Int])
}

/// A tensor a session returned: its values in row-major order and its shape.
struct OnnxOutput<Element: Sendable>: Sendable {
    var values: [Element]
    var shape: [Int]
}

typealias OnnxFloatTensor = OnnxOutput<Float>

/// One loaded model.
// @unchecked: ONNX Runtime allows concurrent Run calls on one session; the handle is immutable.
final class OnnxSession: @unchecked Sendable {
    private let runtime: OnnxRuntime
    private let handle: OpaquePointer

    fileprivate init(runtime: OnnxRuntime, handle: OpaquePointer) {
        self.runtime = runtime
        self.handle = handle
    }

    deinit {
        runtime.api.ReleaseSession!(handle)
    }

    var inputCount: Int {
        get throws {
            var count = 0
            try runtime.check(runtime.api.SessionGetInputCount!(handle, &count))
            return count
        }
    }

    var outputCount: Int {
        get throws {
            var count = 0
            try runtime.check(runtime.api.SessionGetOutputCount!(handle, &count))
            return count
        }
    }

    /// Runs the model on `inputs` (by name) and returns the float outputs named in `outputs`,
    /// each with its shape. With `releasingArenaMemory`, ONNX Runtime ends the run by giving every
    /// block of its CPU memory arena that no run is using back to malloc (the arena otherwise
    /// keeps the most memory runs ever needed together, for the life of the process).
    func run(
        _ inputs: [(name: String, tensor: OnnxTensor)], outputs: [String], releasingArenaMemory: Bool = false
    ) throws -> [OnnxFloatTensor] {
        try run(inputs, outputs: outputs, releasingArenaMemory: releasingArenaMemory) { value, name in
            try tensor(value, name: name, type: ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, as: Float.self)
        }
    }

    /// Runs the model on `inputs` and returns its int64 output `output`.
    func run(_ inputs: [(name: String, tensor: OnnxTensor)], integerOutput output: String) throws -> OnnxOutput<Int64> {
        let results = try run(inputs, outputs: [output]) { value, name in
            try tensor(value, name: name, type: ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, as: Int64.self)
        }
        return results[0]
    }

    private func run<Element: Sendable>(
        _ inputs: [(name: String, tensor: OnnxTensor)], outputs: [String], releasingArenaMemory: Bool = false,
        reading read: (OpaquePointer, String) throws -> OnnxOutput<Element>
    ) throws -> [OnnxOutput<Element>] {
        let api = runtime.api
        let options = releasingArenaMemory ? try runtime.arenaReleasingRunOptions() : nil
        defer { if let options { api.ReleaseRunOptions!(options) } }
        // Input buffers are copied into memory of our own that outlives the Run call.
        var buffers: [UnsafeMutableRawPointer] = []
        var values: [OpaquePointer?] = []
        var results: [OpaquePointer?] = Array(repeating: nil, count: outputs.count)
        defer {
            for value in values { api.ReleaseValue!(value) }
            for value in results { api.ReleaseValue!(value) }
            for buffer in buffers { buffer.deallocate() }
        }
        for (_, tensor) in inputs {
            let (buffer, byteCount, shape, type) = Self.copy(tensor)
            buffers.append(buffer)
            let dimensions = shape.map(Int64.init)
            var value: OpaquePointer?
            try runtime.check(
                api.CreateTensorWithDataAsOrtValue!(
                    runtime.memoryInfo, buffer, byteCount, dimensions, dimensions.count, type, &value))
            values.append(value)
        }
        try Self.withCStrings(inputs.map(\.name)) { inputNames in
            try Self.withCStrings(outputs) { outputNames in
                let status = api.Run!(
                    handle, options, inputNames, values, inputs.count, outputNames, outputs.count, &results)
                try runtime.check(status)
            }
        }
        return try results.enumerated().map { index, value in
            guard let value else { throw SpeechError.engineFailure("ONNX Runtime returned no \(outputs[index])") }
            return try read(value, outputs[index])
        }
    }

    private func tensor<Element: Numeric>(
        _ value: OpaquePointer, name: String, type expected: ONNXTensorElementDataType, as _: Element.Type
    ) throws -> OnnxOutput<Element> {
        let api = runtime.api
        var info: OpaquePointer?
        try runtime.check(api.GetTensorTypeAndShape!(value, &info))
        defer { api.ReleaseTensorTypeAndShapeInfo!(info) }
        var type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED
        try runtime.check(api.GetTensorElementType!(info, &type))
        guard type == expected else {
            throw SpeechError.engineFailure("the model's \(name) has type \(type.rawValue), not \(expected.rawValue)")
        }
        var rank = 0
        try runtime.check(api.GetDimensionsCount!(info, &rank))
        var dimensions = [Int64](repeating: 0, count: rank)
        try runtime.check(api.GetDimensions!(info, &dimensions, rank))
        let shape = dimensions.map { Int($0) }
        let count = shape.reduce(1, *)
        guard count >= 0 else { throw SpeechError.engineFailure("the model's \(name) has shape \(shape)") }
        var data: UnsafeMutableRawPointer?
        try runtime.check(api.GetTensorMutableData!(value, &data))
        guard let data else { return OnnxOutput(values: Array(repeating: 0, count: count), shape: shape) }
        return OnnxOutput(
            values: Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Element.self), count: count)),
            shape: shape)
    }

    /// A copy of the tensor's values in memory the caller deallocates, its size in bytes, its
    /// shape and its element type.
    private static func copy(_ tensor: OnnxTensor) -> (UnsafeMutableRawPointer, Int, [Int], ONNXTensorElementDataType) {
        func copy<Element>(_ values: [Element]) -> (UnsafeMutableRawPointer, Int) {
            let byteCount = values.count * MemoryLayout<Element>.stride
            let buffer = UnsafeMutableRawPointer.allocate(
                byteCount: max(1, byteCount), alignment: MemoryLayout<Element>.alignment)
            values.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: byteCount) }
            return (buffer, byteCount)
        }
        switch tensor {
        case .int64(let values, let shape):
            let (buffer, byteCount) = copy(values)
            return (buffer, byteCount, shape, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64)
        case .float(let values, let shape):
            let (buffer, byteCount) = copy(values)
            return (buffer, byteCount, shape, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
        }
    }

    /// Calls `body` with a C array of C strings that live until it returns.
    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> Result
    ) throws -> Result {
        let copies = strings.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        let pointers = copies.map { UnsafePointer($0) }
        return try pointers.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
