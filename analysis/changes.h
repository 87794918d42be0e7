/* changes.h - what changed between two decided results of a live capture,
 * so the jsonl stream can say it as it happens: rule verdicts that changed,
 * NNR alerts raised and cleared, names learned.  The previous state is
 * kept as copies (hashes, verdicts, addresses), never as pointers into an
 * older result, and is bounded. */
#ifndef PW_CHANGES_H
#define PW_CHANGES_H

#include "result.h"

/* At most this many names are remembered; names beyond it are not announced
 * (they are still in every report). */
#define PW_CHANGES_MAX_NAMES (1u << 17)

typedef enum pw_change_kind { PW_CHG_RULE, PW_CHG_ALERT_RAISED, PW_CHG_ALERT_CLEARED, PW_CHG_NAME } pw_change_kind;

typedef struct pw_change {
    pw_change_kind kind;
    const pw_res_rule *rule;            /* PW_CHG_RULE: the rule now ... */
    bool had_verdict;                   /* ... and what it was (false: not in the previous result) */
    pw_verdict from;
    pw_addr sensor;                     /* alerts */
    pw_nnr_method method;
    double rate;                        /* raised: the failure rate now */
    const pw_res_host *host;            /* PW_CHG_NAME */
    const pw_res_name *name;
} pw_change;

typedef struct pw_changes pw_changes;

pw_changes *pw_changes_new(void);
/* Calls emit for every change from the state of the previous call (none
 * before the first: everything in r is new), then remembers r's state. */
void pw_changes_diff(pw_changes *c, const pw_result *r, void (*emit)(void *arg, const pw_change *ch), void *arg);
void pw_changes_free(pw_changes *c);

#endif
