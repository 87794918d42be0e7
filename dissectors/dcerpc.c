/* PLACEHOLDER: replaced by the real dcerpc dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_dcerpc = {.name = "dcerpc"};
