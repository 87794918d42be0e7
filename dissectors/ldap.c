/* PLACEHOLDER: replaced by the real ldap dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_ldap = {.name = "ldap"};
