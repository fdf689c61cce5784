// sherpa-onnx's C API as installed from PyPI by scripts/install-piper (Package.swift adds this
// target and the library's -L/-rpath only when the header is there).
#include "../../.piper/sherpa_onnx/include/sherpa-onnx/c-api/c-api.h"
