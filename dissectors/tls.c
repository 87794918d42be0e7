/* PLACEHOLDER: replaced by the real tls dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_tls = {.name = "tls"};
