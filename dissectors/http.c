/* PLACEHOLDER: replaced by the real http dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_http = {.name = "http"};
