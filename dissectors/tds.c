/* PLACEHOLDER: replaced by the real tds dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_tds = {.name = "tds"};
