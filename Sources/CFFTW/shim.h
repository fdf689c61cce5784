// FFTW 3, single precision (libfftw3-dev), for hibari's spectrum-to-waveform step.
#include <fftw3.h>
