/* PLACEHOLDER: replaced by the real smb dissector. */
#include "dissector.h"

const pw_dissector pw_dissector_smb = {.name = "smb"};
