/* fixes.h - the firewall changes that would make each failed or partial rule
 * pass, decided from the rule's passive evidence (result.h: pw_res_fix). */
#ifndef PW_FIXES_H
#define PW_FIXES_H

#include "result.h"

/* Fills r->fixes from r->rules (call after the rules are decided). */
void pw_fixes_result(pw_result *r);

#endif
