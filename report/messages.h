/* messages.h - the one table of user-facing English: renders the message
 * codes of a result (pw_msg, analysis/result.h) for every writer. */
#ifndef PW_MESSAGES_H
#define PW_MESSAGES_H

#include <stddef.h>

#include "../analysis/result.h"

/* A growing string. */
typedef struct pw_sbuf {
    char *s;
    size_t len, cap;
} pw_sbuf;

void pw_sb_printf(pw_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when empty). */
const char *pw_sb_str(const pw_sbuf *b);
void pw_sb_free(pw_sbuf *b);

/* Appends the English of m to b (nothing for PW_MSG_NONE); srcs names the
 * inputs of the frames a message cites. */
void pw_msg_render(pw_sbuf *b, const pw_msg *m, const pw_sources *srcs);

/* The English of m as a fresh string (caller frees), "" for PW_MSG_NONE. */
char *pw_msg_text(const pw_msg *m, const pw_sources *srcs);

/* Why a fix's attempts failed and which firewall to change (cause and
 * path device of f). */
void pw_fix_cause_render(pw_sbuf *b, const pw_res_fix *f);

/* "gRPC over TLS: calls not visible" (HTTP/2 chosen by ALPN inside TLS). */
const char *pw_msg_h2_tls(void);

#endif
