/* PLACEHOLDER: replaced by the real rdp dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_rdp = {.name = "rdp"};
