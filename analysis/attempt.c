/* attempt.c - names and small helpers for pw_attempt. */
#include "attempt.h"

#include <string.h>

static const char *const outcome_names[PW_OUT_COUNT] = {
    "pending", "answered", "refused", "blocked", "unanswered", "indeterminate",
};

static const char *const reason_names[PW_R_COUNT] = {
    "none",
    "syn-ack",
    "inferred",
    "rst",
    "icmp-port-unreachable",
    "icmp-admin-prohibited",
    "icmp-host-unreachable",
    "icmp-net-unreachable",
    "icmp-other",
    "timeout",
    "udp-reply",
    "one-sided",
    "capture-ended",
    "midstream",
};

const char *pw_outcome_name(pw_outcome o)
{
    return (unsigned)o < PW_OUT_COUNT ? outcome_names[o] : "?";
}

const char *pw_reason_name(pw_reason r)
{
    return (unsigned)r < PW_R_COUNT ? reason_names[r] : "?";
}

pw_outcome pw_outcome_parse(const char *name)
{
    for (int i = 1; i < PW_OUT_COUNT; i++)
        if (strcmp(name, outcome_names[i]) == 0)
            return (pw_outcome)i;
    return PW_OUT_PENDING;
}

int pw_outcome_rank(pw_outcome o)
{
    switch (o) {
    case PW_OUT_ANSWERED: return 5;
    case PW_OUT_REFUSED: return 4;
    case PW_OUT_BLOCKED: return 3;
    case PW_OUT_UNANSWERED: return 2;
    case PW_OUT_INDETERMINATE: return 1;
    default: return 0;
    }
}

double pw_attempt_rtt_ms(const pw_attempt *a)
{
    if (!a->reply_ts || a->outcome != PW_OUT_ANSWERED)
        return -1.0;
    return (double)(a->reply_ts - a->last_request_ts) / 1000.0;
}
