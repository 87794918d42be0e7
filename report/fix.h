/* fix.h - firewall commands for the decided fixes (analysis/result.h
 * pw_res_fix), shared by the fix, json and html writers. */
#ifndef PW_FIX_H
#define PW_FIX_H

#include <stdio.h>

#include "../analysis/result.h"
#include "messages.h"


/* How to write a fix's ports: for New-NetFirewallRule/netsh (the RPC
 * dynamic range as "RPC"), for a network firewall (the range itself), or
 * the ports seen failing ("135", "10000,10001", "49700"). */
typedef enum pw_fix_ports_as { PW_PORTS_WINDOWS = 0, PW_PORTS_NETWORK, PW_PORTS_SEEN } pw_fix_ports_as;
void pw_fix_ports(pw_sbuf *b, const pw_res_fix *f, pw_fix_ports_as as);
/* The rule's display name: "portwitness <profile> <rule> from clients to <server>". */
void pw_fix_name(pw_sbuf *b, const pw_res_fix *f);
/* One New-NetFirewallRule command (no -WhatIf). */
void pw_fix_powershell(pw_sbuf *b, const pw_res_fix *f);
/* The equivalent netsh advfirewall line. */
void pw_fix_netsh(pw_sbuf *b, const pw_res_fix *f);
/* The --format fix script. */
void pw_fix_write(FILE *out, const pw_result *r);

#endif
