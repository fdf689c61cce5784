// The part of ONNX Runtime's C API that hibari's and Piper's engines call, declared here because no installable
// package ships onnxruntime_c_api.h. Nothing is linked: the engine dlopens the libonnxruntime.so
// that scripts/install-piper installs with sherpa-onnx, looks up `OrtGetApiBase` and reaches
// everything else through the OrtApi function table.
//
// The table's order is ONNX Runtime's public ABI and only ever grows at the end, so this prefix
// (entries 0-165: 0-100 unchanged since API version 1, AddRunConfigEntry, added later, at 165)
// is valid for every version that returns a table for ORT_API_VERSION_REQUESTED. Order and signatures follow microsoft/onnxruntime
// include/onnxruntime/core/session/onnxruntime_c_api.h; entries we do not call keep their place
// with a placeholder type. Checked at run time against the installed 1.28.2 library (see
// HibariTests: CreateStatus/GetErrorMessage round trip, the model's input and output counts;
// PiperTests: a run with the arena-shrinking run option).
#pragma once
#include <stddef.h>
#include <stdint.h>

#define ORT_API_VERSION_REQUESTED 16

typedef struct OrtEnv OrtEnv;
typedef struct OrtStatus OrtStatus;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtSession OrtSession;
typedef struct OrtValue OrtValue;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtSessionOptions OrtSessionOptions;

typedef enum ONNXTensorElementDataType {
    ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED = 0,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 = 7,
} ONNXTensorElementDataType;

typedef enum OrtLoggingLevel {
    ORT_LOGGING_LEVEL_VERBOSE,
    ORT_LOGGING_LEVEL_INFO,
    ORT_LOGGING_LEVEL_WARNING,
    ORT_LOGGING_LEVEL_ERROR,
    ORT_LOGGING_LEVEL_FATAL,
} OrtLoggingLevel;

typedef enum OrtErrorCode {
    ORT_OK,
    ORT_FAIL,
    ORT_INVALID_ARGUMENT,
    ORT_NO_SUCHFILE,
    ORT_NO_MODEL,
    ORT_ENGINE_ERROR,
    ORT_RUNTIME_EXCEPTION,
    ORT_INVALID_PROTOBUF,
    ORT_MODEL_LOADED,
    ORT_NOT_IMPLEMENTED,
    ORT_INVALID_GRAPH,
    ORT_EP_FAIL,
} OrtErrorCode;

typedef enum GraphOptimizationLevel {
    ORT_DISABLE_ALL = 0,
    ORT_ENABLE_BASIC = 1,
    ORT_ENABLE_EXTENDED = 2,
    ORT_ENABLE_ALL = 99,
} GraphOptimizationLevel;

typedef enum OrtAllocatorType {
    OrtInvalidAllocator = -1,
    OrtDeviceAllocator = 0,
    OrtArenaAllocator = 1,
} OrtAllocatorType;

typedef enum OrtMemType {
    OrtMemTypeCPUInput = -2,
    OrtMemTypeCPUOutput = -1,
    OrtMemTypeDefault = 0,
} OrtMemType;

typedef struct OrtApi {
    /*   0 */ OrtStatus *(*CreateStatus)(OrtErrorCode code, const char *message);
    /*   1 */ OrtErrorCode (*GetErrorCode)(const OrtStatus *status);
    /*   2 */ const char *(*GetErrorMessage)(const OrtStatus *status);
    /*   3 */ OrtStatus *(*CreateEnv)(OrtLoggingLevel severity, const char *logid, OrtEnv **out);
    /*   4 */ void (*CreateEnvWithCustomLogger)(void); // not called
    /*   5 */ void (*EnableTelemetryEvents)(void); // not called
    /*   6 */ void (*DisableTelemetryEvents)(void); // not called
    /*   7 */ OrtStatus *(*CreateSession)(const OrtEnv *env, const char *model_path, const OrtSessionOptions *options, OrtSession **out);
    /*   8 */ void (*CreateSessionFromArray)(void); // not called
    /*   9 */ OrtStatus *(*Run)(OrtSession *session, const OrtRunOptions *run_options, const char *const *input_names, const OrtValue *const *inputs, size_t input_count, const char *const *output_names, size_t output_count, OrtValue **outputs);
    /*  10 */ OrtStatus *(*CreateSessionOptions)(OrtSessionOptions **out);
    /*  11 */ void (*SetOptimizedModelFilePath)(void); // not called
    /*  12 */ void (*CloneSessionOptions)(void); // not called
    /*  13 */ void (*SetSessionExecutionMode)(void); // not called
    /*  14 */ void (*EnableProfiling)(void); // not called
    /*  15 */ void (*DisableProfiling)(void); // not called
    /*  16 */ void (*EnableMemPattern)(void); // not called
    /*  17 */ OrtStatus *(*DisableMemPattern)(OrtSessionOptions *options);
    /*  18 */ void (*EnableCpuMemArena)(void); // not called
    /*  19 */ void (*DisableCpuMemArena)(void); // not called
    /*  20 */ void (*SetSessionLogId)(void); // not called
    /*  21 */ void (*SetSessionLogVerbosityLevel)(void); // not called
    /*  22 */ OrtStatus *(*SetSessionLogSeverityLevel)(OrtSessionOptions *options, int level);
    /*  23 */ OrtStatus *(*SetSessionGraphOptimizationLevel)(OrtSessionOptions *options, GraphOptimizationLevel level);
    /*  24 */ OrtStatus *(*SetIntraOpNumThreads)(OrtSessionOptions *options, int threads);
    /*  25 */ OrtStatus *(*SetInterOpNumThreads)(OrtSessionOptions *options, int threads);
    /*  26 */ void (*CreateCustomOpDomain)(void); // not called
    /*  27 */ void (*CustomOpDomain_Add)(void); // not called
    /*  28 */ void (*AddCustomOpDomain)(void); // not called
    /*  29 */ void (*RegisterCustomOpsLibrary)(void); // not called
    /*  30 */ OrtStatus *(*SessionGetInputCount)(const OrtSession *session, size_t *out);
    /*  31 */ OrtStatus *(*SessionGetOutputCount)(const OrtSession *session, size_t *out);
    /*  32 */ void (*SessionGetOverridableInitializerCount)(void); // not called
    /*  33 */ void (*SessionGetInputTypeInfo)(void); // not called
    /*  34 */ void (*SessionGetOutputTypeInfo)(void); // not called
    /*  35 */ void (*SessionGetOverridableInitializerTypeInfo)(void); // not called
    /*  36 */ void (*SessionGetInputName)(void); // not called
    /*  37 */ void (*SessionGetOutputName)(void); // not called
    /*  38 */ void (*SessionGetOverridableInitializerName)(void); // not called
    /*  39 */ OrtStatus *(*CreateRunOptions)(OrtRunOptions **out);
    /*  40 */ void (*RunOptionsSetRunLogVerbosityLevel)(void); // not called
    /*  41 */ void (*RunOptionsSetRunLogSeverityLevel)(void); // not called
    /*  42 */ void (*RunOptionsSetRunTag)(void); // not called
    /*  43 */ void (*RunOptionsGetRunLogVerbosityLevel)(void); // not called
    /*  44 */ void (*RunOptionsGetRunLogSeverityLevel)(void); // not called
    /*  45 */ void (*RunOptionsGetRunTag)(void); // not called
    /*  46 */ void (*RunOptionsSetTerminate)(void); // not called
    /*  47 */ void (*RunOptionsUnsetTerminate)(void); // not called
    /*  48 */ void (*CreateTensorAsOrtValue)(void); // not called
    /*  49 */ OrtStatus *(*CreateTensorWithDataAsOrtValue)(const OrtMemoryInfo *info, void *data, size_t data_bytes, const int64_t *shape, size_t shape_count, ONNXTensorElementDataType type, OrtValue **out);
    /*  50 */ void (*IsTensor)(void); // not called
    /*  51 */ OrtStatus *(*GetTensorMutableData)(OrtValue *value, void **out);
    /*  52 */ void (*FillStringTensor)(void); // not called
    /*  53 */ void (*GetStringTensorDataLength)(void); // not called
    /*  54 */ void (*GetStringTensorContent)(void); // not called
    /*  55 */ void (*CastTypeInfoToTensorInfo)(void); // not called
    /*  56 */ void (*GetOnnxTypeFromTypeInfo)(void); // not called
    /*  57 */ void (*CreateTensorTypeAndShapeInfo)(void); // not called
    /*  58 */ void (*SetTensorElementType)(void); // not called
    /*  59 */ void (*SetDimensions)(void); // not called
    /*  60 */ OrtStatus *(*GetTensorElementType)(const OrtTensorTypeAndShapeInfo *info, ONNXTensorElementDataType *out);
    /*  61 */ OrtStatus *(*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo *info, size_t *out);
    /*  62 */ OrtStatus *(*GetDimensions)(const OrtTensorTypeAndShapeInfo *info, int64_t *dimensions, size_t count);
    /*  63 */ void (*GetSymbolicDimensions)(void); // not called
    /*  64 */ void (*GetTensorShapeElementCount)(void); // not called
    /*  65 */ OrtStatus *(*GetTensorTypeAndShape)(const OrtValue *value, OrtTensorTypeAndShapeInfo **out);
    /*  66 */ void (*GetTypeInfo)(void); // not called
    /*  67 */ void (*GetValueType)(void); // not called
    /*  68 */ void (*CreateMemoryInfo)(void); // not called
    /*  69 */ OrtStatus *(*CreateCpuMemoryInfo)(OrtAllocatorType type, OrtMemType memory_type, OrtMemoryInfo **out);
    /*  70 */ void (*CompareMemoryInfo)(void); // not called
    /*  71 */ void (*MemoryInfoGetName)(void); // not called
    /*  72 */ void (*MemoryInfoGetId)(void); // not called
    /*  73 */ void (*MemoryInfoGetMemType)(void); // not called
    /*  74 */ void (*MemoryInfoGetType)(void); // not called
    /*  75 */ void (*AllocatorAlloc)(void); // not called
    /*  76 */ void (*AllocatorFree)(void); // not called
    /*  77 */ void (*AllocatorGetInfo)(void); // not called
    /*  78 */ void (*GetAllocatorWithDefaultOptions)(void); // not called
    /*  79 */ void (*AddFreeDimensionOverride)(void); // not called
    /*  80 */ void (*GetValue)(void); // not called
    /*  81 */ void (*GetValueCount)(void); // not called
    /*  82 */ void (*CreateValue)(void); // not called
    /*  83 */ void (*CreateOpaqueValue)(void); // not called
    /*  84 */ void (*GetOpaqueValue)(void); // not called
    /*  85 */ void (*KernelInfoGetAttribute_float)(void); // not called
    /*  86 */ void (*KernelInfoGetAttribute_int64)(void); // not called
    /*  87 */ void (*KernelInfoGetAttribute_string)(void); // not called
    /*  88 */ void (*KernelContext_GetInputCount)(void); // not called
    /*  89 */ void (*KernelContext_GetOutputCount)(void); // not called
    /*  90 */ void (*KernelContext_GetInput)(void); // not called
    /*  91 */ void (*KernelContext_GetOutput)(void); // not called
    /*  92 */ void (*ReleaseEnv)(OrtEnv *value);
    /*  93 */ void (*ReleaseStatus)(OrtStatus *value);
    /*  94 */ void (*ReleaseMemoryInfo)(OrtMemoryInfo *value);
    /*  95 */ void (*ReleaseSession)(OrtSession *value);
    /*  96 */ void (*ReleaseValue)(OrtValue *value);
    /*  97 */ void (*ReleaseRunOptions)(OrtRunOptions *value);
    /*  98 */ void (*ReleaseTypeInfo)(void); // not called
    /*  99 */ void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo *value);
    /* 100 */ void (*ReleaseSessionOptions)(OrtSessionOptions *value);
    /* 101 */ void (*ReleaseCustomOpDomain)(void); // not called
    /* 102 */ void (*GetDenotationFromTypeInfo)(void); // not called
    /* 103 */ void (*CastTypeInfoToMapTypeInfo)(void); // not called
    /* 104 */ void (*CastTypeInfoToSequenceTypeInfo)(void); // not called
    /* 105 */ void (*GetMapKeyType)(void); // not called
    /* 106 */ void (*GetMapValueType)(void); // not called
    /* 107 */ void (*GetSequenceElementType)(void); // not called
    /* 108 */ void (*ReleaseMapTypeInfo)(void); // not called
    /* 109 */ void (*ReleaseSequenceTypeInfo)(void); // not called
    /* 110 */ void (*SessionEndProfiling)(void); // not called
    /* 111 */ void (*SessionGetModelMetadata)(void); // not called
    /* 112 */ void (*ModelMetadataGetProducerName)(void); // not called
    /* 113 */ void (*ModelMetadataGetGraphName)(void); // not called
    /* 114 */ void (*ModelMetadataGetDomain)(void); // not called
    /* 115 */ void (*ModelMetadataGetDescription)(void); // not called
    /* 116 */ void (*ModelMetadataLookupCustomMetadataMap)(void); // not called
    /* 117 */ void (*ModelMetadataGetVersion)(void); // not called
    /* 118 */ void (*ReleaseModelMetadata)(void); // not called
    /* 119 */ void (*CreateEnvWithGlobalThreadPools)(void); // not called
    /* 120 */ void (*DisablePerSessionThreads)(void); // not called
    /* 121 */ void (*CreateThreadingOptions)(void); // not called
    /* 122 */ void (*ReleaseThreadingOptions)(void); // not called
    /* 123 */ void (*ModelMetadataGetCustomMetadataMapKeys)(void); // not called
    /* 124 */ void (*AddFreeDimensionOverrideByName)(void); // not called
    /* 125 */ void (*GetAvailableProviders)(void); // not called
    /* 126 */ void (*ReleaseAvailableProviders)(void); // not called
    /* 127 */ void (*GetStringTensorElementLength)(void); // not called
    /* 128 */ void (*GetStringTensorElement)(void); // not called
    /* 129 */ void (*FillStringTensorElement)(void); // not called
    /* 130 */ void (*AddSessionConfigEntry)(void); // not called
    /* 131 */ void (*CreateAllocator)(void); // not called
    /* 132 */ void (*ReleaseAllocator)(void); // not called
    /* 133 */ void (*RunWithBinding)(void); // not called
    /* 134 */ void (*CreateIoBinding)(void); // not called
    /* 135 */ void (*ReleaseIoBinding)(void); // not called
    /* 136 */ void (*BindInput)(void); // not called
    /* 137 */ void (*BindOutput)(void); // not called
    /* 138 */ void (*BindOutputToDevice)(void); // not called
    /* 139 */ void (*GetBoundOutputNames)(void); // not called
    /* 140 */ void (*GetBoundOutputValues)(void); // not called
    /* 141 */ void (*ClearBoundInputs)(void); // not called
    /* 142 */ void (*ClearBoundOutputs)(void); // not called
    /* 143 */ void (*TensorAt)(void); // not called
    /* 144 */ void (*CreateAndRegisterAllocator)(void); // not called
    /* 145 */ void (*SetLanguageProjection)(void); // not called
    /* 146 */ void (*SessionGetProfilingStartTimeNs)(void); // not called
    /* 147 */ void (*SetGlobalIntraOpNumThreads)(void); // not called
    /* 148 */ void (*SetGlobalInterOpNumThreads)(void); // not called
    /* 149 */ void (*SetGlobalSpinControl)(void); // not called
    /* 150 */ void (*AddInitializer)(void); // not called
    /* 151 */ void (*CreateEnvWithCustomLoggerAndGlobalThreadPools)(void); // not called
    /* 152 */ void (*SessionOptionsAppendExecutionProvider_CUDA)(void); // not called
    /* 153 */ void (*SessionOptionsAppendExecutionProvider_ROCM)(void); // not called
    /* 154 */ void (*SessionOptionsAppendExecutionProvider_OpenVINO)(void); // not called
    /* 155 */ void (*SetGlobalDenormalAsZero)(void); // not called
    /* 156 */ void (*CreateArenaCfg)(void); // not called
    /* 157 */ void (*ReleaseArenaCfg)(void); // not called
    /* 158 */ void (*ModelMetadataGetGraphDescription)(void); // not called
    /* 159 */ void (*SessionOptionsAppendExecutionProvider_TensorRT)(void); // not called
    /* 160 */ void (*SetCurrentGpuDeviceId)(void); // not called
    /* 161 */ void (*GetCurrentGpuDeviceId)(void); // not called
    /* 162 */ void (*KernelInfoGetAttributeArray_float)(void); // not called
    /* 163 */ void (*KernelInfoGetAttributeArray_int64)(void); // not called
    /* 164 */ void (*CreateArenaCfgV2)(void); // not called
    /* 165 */ OrtStatus *(*AddRunConfigEntry)(OrtRunOptions *options, const char *config_key, const char *config_value);
} OrtApi;

typedef struct OrtApiBase {
    const OrtApi *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

/// The type of the library's one exported entry point, `OrtGetApiBase`, for dlsym.
typedef const OrtApiBase *(*OrtGetApiBaseFunction)(void);
