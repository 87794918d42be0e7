/* decode_errors.c - names of the decode error classes (capture.h). */
#include "capture.h"

const char *const pw_decode_err_names[PW_DERR_COUNT] = {
    "truncated", "zero_length", "bad_length", "bad_header", "unsupported", "fragment",
    "tunnel",    "wireless_protected",
};
