/* apps.h - what the application said on a connection: the gRPC calls,
 * HTTP/2 streams and TDS logins that succeeded or failed, kept in a slot on
 * the connection record (conn.h) and summarised onto its attempt, so that a
 * port whose handshake is answered but whose every call fails can be told
 * from one that works. */
#ifndef PW_APPS_H
#define PW_APPS_H

#include <stdbool.h>
#include <stdint.h>

#include "../dissectors/events.h"
#include "conn.h"
#include "result.h"

/* PW_APP_CODES and pw_app_code: result.h */

typedef struct pw_app_slot {
    uint32_t ok, failed;          /* calls / logins with a final answer */
    bool h2_tls;                  /* HTTP/2 (gRPC) inside TLS: ALPN h2 was chosen; no call is visible */
    uint8_t n_codes;
    pw_app_code codes[PW_APP_CODES];
} pw_app_slot;

/* Takes an application result from ev (PW_EV_GRPC, PW_EV_HTTP2, PW_EV_TDS;
 * a TLS ServerHello choosing ALPN h2 marks the calls as not visible)
 * into c's slot (made on the first result) and c->a's summary.  Other
 * events, and events without a final answer (a call cut by the end of the
 * capture), change nothing. */
void pw_apps_event(pw_conn *c, const pw_event *ev);
/* Frees c's slot (the removal hook, after every module read it). */
void pw_apps_conn_removed(pw_conn *c);
/* Frees a slot taken off its record (analysis.h: a retired item's). */
void pw_apps_free(pw_app_slot *s);
/* Adds code to a list of at most PW_APP_CODES distinct codes; false when
 * the list is full and code is new. */
bool pw_app_code_add(pw_app_code *codes, uint8_t *n, const char *code, uint32_t count);

#endif
