/* services.h - attempts summarised per server, protocol and port. */
#ifndef PW_SERVICES_H
#define PW_SERVICES_H

#include "attempt.h"
#include "result.h"
#include "sources.h"

typedef struct pw_services pw_services;

/* Default cap on (server, proto, port) services (--max-services).  Beyond
 * it, attempts to further services are folded per transport and port. */
#define PW_SERVICES_DEFAULT_MAX 8192

/* pw_services_fold: result.h */

typedef struct pw_services_stats {
    uint64_t services, max_services;
    uint64_t folded_attempts;          /* attempts counted in port folds */
    uint64_t folded_ports;             /* port folds */
} pw_services_stats;

pw_services *pw_services_new(uint32_t max_services);
void pw_services_attempt(pw_services *s, const pw_attempt *a);
/* The same, with the application results of the attempt's connection
 * (apps.h; NULL: the attempt's own summary). */
struct pw_app_slot;
/* Starts loading the service's index slot (a hint). */
void pw_services_prefetch(const pw_services *s, const pw_addr *server, uint8_t proto, uint16_t port);
void pw_services_attempt_app(pw_services *s, const pw_attempt *a, const struct pw_app_slot *slot);
/* Outcome counts for one server/proto/port (counts[PW_OUT_*]); false if never seen. */
bool pw_services_lookup(const pw_services *s, const pw_addr *server, uint8_t proto, uint16_t port,
                        uint64_t counts[PW_OUT_COUNT]);
/* Iterates every service: cb(arg, server, proto, port, counts). */
void pw_services_each(const pw_services *s,
                      void (*cb)(void *arg, const pw_addr *server, uint8_t proto, uint16_t port,
                                 const uint64_t counts[PW_OUT_COUNT]),
                      void *arg);
/* The services of the result, sorted by server, proto, port. */
void pw_services_result(const pw_services *s, pw_result *r);
/* The port folds, by transport then port; valid until the next call. */
const pw_services_fold *pw_services_folds(pw_services *s, size_t *n);
void pw_services_stats_get(const pw_services *s, pw_services_stats *st);
void pw_services_free(pw_services *s);

#endif
