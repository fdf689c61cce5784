#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>

// AVERROR(EAGAIN) and AVERROR_EOF are function-like macros, which Swift does not import.
static inline int speechrouter_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int speechrouter_averror_eof(void) { return AVERROR_EOF; }
