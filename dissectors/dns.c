/* PLACEHOLDER: replaced by the real dns dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_dns = {.name = "dns"};
