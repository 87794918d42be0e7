/* fix.c - the firewall commands of the decided fixes (result.h pw_res_fix),
 * shared by every writer, and the "fix" format: a commented PowerShell
 * script a firewall admin reviews.
 *
 * The script changes nothing by itself: every New-NetFirewallRule runs with
 * -WhatIf unless the script is started with -Apply, and only on the host
 * whose address the block names.  netsh lines and the network allow-list are
 * comments.  Text from profiles or files ends up inside quotes and comments,
 * so it is reduced to printable ASCII without quotes that could end them. */
#include "fix.h"

#include <string.h>

#include "../analysis/policy_internal.h"

typedef enum clean_mode { CLEAN_PS_QUOTED, CLEAN_COMMENT, CLEAN_PLAIN } clean_mode;

/* Printable ASCII only; a ' is doubled inside PowerShell single quotes
 * (ps_quoted), other quote marks are dropped. */
static void clean(pw_sbuf *b, const char *s, clean_mode mode)
{
    bool ps_quoted = mode == CLEAN_PS_QUOTED;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e)
            pw_sb_printf(b, " ");
        else if (c == '\'' && ps_quoted)
            pw_sb_printf(b, "''");
        else if (mode != CLEAN_COMMENT && (c == '\'' || c == '"' || c == '`' || c == '<' || c == '>'))
            continue;
        else
            pw_sb_printf(b, "%c", c);
    }
}

static void sb_reset(pw_sbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

static const char *proto_up(uint8_t proto)
{
    return proto == 17 ? "UDP" : "TCP";
}

static void ranges(pw_sbuf *b, const pw_port_range *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (v[i].lo == v[i].hi)
            pw_sb_printf(b, "%s%u", i ? "," : "", v[i].lo);
        else
            pw_sb_printf(b, "%s%u-%u", i ? "," : "", v[i].lo, v[i].hi);
    }
    if (!n)
        pw_sb_printf(b, "Any");
}

void pw_fix_ports(pw_sbuf *b, const pw_res_fix *f, pw_fix_ports_as as)
{
    if (f->rpc_dynamic && as == PW_PORTS_WINDOWS)
        pw_sb_printf(b, "RPC");
    else if (f->rpc_dynamic && as == PW_PORTS_NETWORK)
        ranges(b, &f->rpc_range, 1);
    else
        ranges(b, f->ports, f->n_ports);
}

void pw_fix_name(pw_sbuf *b, const pw_res_fix *f)
{
    char ip[PW_ADDR_STRLEN];
    pw_sb_printf(b, "portwitness ");
    clean(b, f->rule->profile, CLEAN_PLAIN);
    pw_sb_printf(b, " ");
    clean(b, f->rule->id, CLEAN_PLAIN);
    pw_sb_printf(b, " %s %s", f->dir == PW_FIX_INBOUND ? "from clients to" : "to", pw_addr_str(&f->server, ip, sizeof ip));
}

/* 'a','b' for PowerShell, a,b for netsh. */
static void addr_list(pw_sbuf *b, const pw_addr *v, int n, bool ps)
{
    char ip[PW_ADDR_STRLEN];
    for (int i = 0; i < n; i++)
        pw_sb_printf(b, ps ? "%s'%s'" : "%s%s", i ? "," : "", pw_addr_str(&v[i], ip, sizeof ip));
}

void pw_fix_powershell(pw_sbuf *b, const pw_res_fix *f)
{
    bool in = f->dir == PW_FIX_INBOUND;
    pw_sb_printf(b, "New-NetFirewallRule -DisplayName '");
    pw_fix_name(b, f);
    pw_sb_printf(b, "' -Group 'portwitness ");
    clean(b, f->rule->profile, CLEAN_PS_QUOTED);
    pw_sb_printf(b, "' -Direction %s -Action Allow -Protocol %s -%s ", in ? "Inbound" : "Outbound",
                 proto_up(f->proto), in ? "LocalPort" : "RemotePort");
    pw_fix_ports(b, f, PW_PORTS_WINDOWS);
    pw_sb_printf(b, " -RemoteAddress ");
    if (in)
        addr_list(b, f->clients, f->n_clients, true);
    else
        addr_list(b, &f->server, 1, true);
}

void pw_fix_netsh(pw_sbuf *b, const pw_res_fix *f)
{
    bool in = f->dir == PW_FIX_INBOUND;
    pw_sb_printf(b, "netsh advfirewall firewall add rule name=\"");
    pw_fix_name(b, f);
    pw_sb_printf(b, "\" dir=%s action=allow protocol=%s %s=", in ? "in" : "out", proto_up(f->proto),
                 in ? "localport" : "remoteport");
    pw_fix_ports(b, f, PW_PORTS_WINDOWS);
    pw_sb_printf(b, " remoteip=");
    if (in)
        addr_list(b, f->clients, f->n_clients, false);
    else
        addr_list(b, &f->server, 1, false);
}

/* ---- the script --------------------------------------------------------------- */

/* Writes text as comment lines; wrapped at ~100 columns after the lead
 * unless it is a command or a table row someone copies. */
static void comment_as(FILE *out, const char *lead, const char *text, bool wrap)
{
    pw_sbuf b = {0};
    clean(&b, text, CLEAN_COMMENT);
    const char *s = pw_sb_str(&b);
    bool first = true;
    while (*s) {
        size_t n = strlen(s);
        if (wrap && n > 96) {
            n = 96;
            while (n > 40 && s[n] != ' ')
                n--;
        }
        fprintf(out, "%s%.*s\n", first ? lead : "#     ", (int)n, s);
        first = false;
        s += n;
        while (*s == ' ')
            s++;
    }
    pw_sb_free(&b);
}

static void comment(FILE *out, const char *lead, const char *text)
{
    comment_as(out, lead, text, true);
}

static void header(FILE *out, const pw_result *r)
{
    fputs("# portwitness firewall fixes: a script to REVIEW, generated from passive capture evidence.\n"
          "#\n"
          "# As written it changes nothing: every New-NetFirewallRule below runs with -WhatIf (it only\n"
          "# prints what it would do) unless you start the script with -Apply, and each block runs only\n"
          "# on the host whose address it names. netsh equivalents and the network allow-list are comments.\n"
          "#\n"
          "# To apply: review each block, copy the script to the host a block names, then in an elevated\n"
          "# PowerShell run  .\\portwitness-fix.ps1  (dry run) and  .\\portwitness-fix.ps1 -Apply\n"
          "# Where a device in the path refused, the host firewall is not the one to change: that block\n"
          "# has no command, only the flows to allow on the network device.\n#\n",
          out);
    for (size_t i = 0; i < r->n_inputs; i++)
        comment(out, "# input: ", r->inputs[i].path);
    fprintf(out, "# fixes: %zu", r->n_fixes);
    if (r->fixes_left_out)
        fprintf(out, " (%llu failing servers left out, over %d per rule)", (unsigned long long)r->fixes_left_out,
                PW_FIX_PER_RULE);
    fputs("\n\n[CmdletBinding()]\nparam([switch]$Apply)\n\n"
          "# True when this machine holds the address (the block is meant for it).\n"
          "function Test-PwHost([string[]]$Address) {\n"
          "    foreach ($a in $Address) {\n"
          "        if (Get-NetIPAddress -IPAddress $a -ErrorAction SilentlyContinue) { return $true }\n"
          "    }\n"
          "    return $false\n"
          "}\n",
          out);
}

static void block_head(FILE *out, const pw_result *r, const pw_res_fix *f)
{
    char ip[PW_ADDR_STRLEN];
    pw_sbuf b = {0};
    const pw_res_rule *x = f->rule;
    pw_sb_printf(&b, "[%s] %s %s%s: %s %s/%s, %s -> %s", pw_verdict_name(x->verdict), x->profile, x->id,
                 x->required ? " (required)" : "", x->description, pw_proto_str(x->proto), x->ports, x->from, x->to);
    fputs("\n# ------------------------------------------------------------------------------\n", out);
    comment(out, "# ", pw_sb_str(&b));
    sb_reset(&b);
    pw_sb_printf(&b, "Server %s: ", pw_addr_str(&f->server, ip, sizeof ip));
    pw_fix_ports(&b, f, PW_PORTS_SEEN);
    pw_sb_printf(&b, "/%s failed from %d client%s%s%s; first evidence: %s frame %llu.", pw_proto_str(f->proto),
                 f->n_clients, f->n_clients == 1 ? "" : "s", f->clients_more ? " (and more)" : "",
                 f->clients_from_rule ? " (the rule's failing clients; no evidence entry named this server)" : "",
                 f->failed ? pw_source_name(&r->sources, f->source) : "-", (unsigned long long)f->frame);
    comment(out, "# ", pw_sb_str(&b));
    sb_reset(&b);
    pw_fix_cause_render(&b, f);
    comment(out, "# Why: ", pw_sb_str(&b));
    if (x->remediation && *x->remediation)
        comment(out, "# Profile says: ", x->remediation);
    pw_sb_free(&b);
}

static void block_command(FILE *out, const pw_res_fix *f)
{
    pw_sbuf b = {0};
    pw_fix_netsh(&b, f);
    fputs("# netsh equivalent:\n", out);
    comment_as(out, "#   ", pw_sb_str(&b), false);
    sb_reset(&b);
    char ip[PW_ADDR_STRLEN];
    if (f->dir == PW_FIX_INBOUND) {
        fprintf(out, "if (Test-PwHost '%s') {\n", pw_addr_str(&f->server, ip, sizeof ip));
    } else {
        addr_list(&b, f->clients, f->n_clients, true);
        fprintf(out, "if (Test-PwHost @(%s)) {\n", pw_sb_str(&b));
        sb_reset(&b);
    }
    pw_fix_powershell(&b, f);
    fprintf(out, "    %s -WhatIf:(-not $Apply)\n}\n", pw_sb_str(&b));
    pw_sb_free(&b);
}

static void allow_list(FILE *out, const pw_result *r)
{
    char c[PW_ADDR_STRLEN], s[PW_ADDR_STRLEN];
    fputs("\n# ------------------------------------------------------------------------------\n"
          "# Network firewall allow-list (source, destination, protocol, port, rule):\n",
          out);
    for (size_t i = 0; i < r->n_fixes; i++) {
        const pw_res_fix *f = &r->fixes[i];
        pw_sbuf ports = {0};
        pw_fix_ports(&ports, f, PW_PORTS_NETWORK);
        for (int k = 0; k < f->n_clients; k++) {
            pw_sbuf line = {0};
            pw_sb_printf(&line, "%-15s -> %-15s %s/%s  (%s %s)", pw_addr_str(&f->clients[k], c, sizeof c),
                         pw_addr_str(&f->server, s, sizeof s), pw_proto_str(f->proto), pw_sb_str(&ports),
                         f->rule->profile, f->rule->id);
            comment_as(out, "#   ", pw_sb_str(&line), false);
            pw_sb_free(&line);
        }
        pw_sb_free(&ports);
    }
}

void pw_fix_write(FILE *out, const pw_result *r)
{
    header(out, r);
    if (!r->n_fixes)
        fputs("\n# No failed or partial rule: nothing to fix.\n", out);
    for (size_t i = 0; i < r->n_fixes; i++) {
        const pw_res_fix *f = &r->fixes[i];
        block_head(out, r, f);
        if (f->cause == PW_FIX_PATH_REFUSED)
            fputs("# (no host firewall command: see the allow-list for the network device)\n", out);
        else
            block_command(out, f);
    }
    allow_list(out, r);
}
