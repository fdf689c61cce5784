// zlib (zlib1g-dev), for reading hibari's gzip-compressed lexicons and tagger.
#include <zlib.h>
