/* PLACEHOLDER: replaced by the real nbns dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_nbns = {.name = "nbns"};
