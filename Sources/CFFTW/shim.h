// FFTW 3, single precision (libfftw3-dev), for hibari's spectrum-to-waveform step.
#include <fftw3.h>

// The sine and cosine of one angle in one call (glibc's sincosf, which Swift's Glibc module
// does not declare): the vocoder turns every bin's phase into a rotation.
static inline void cfftw_sincosf(float x, float *sine, float *cosine) { __builtin_sincosf(x, sine, cosine); }
