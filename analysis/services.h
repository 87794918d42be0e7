/* services.h - attempts summarised per server, protocol and port. */
#ifndef PW_SERVICES_H
#define PW_SERVICES_H

#include "attempt.h"
#include "result.h"
#include "sources.h"

typedef struct pw_services pw_services;

pw_services *pw_services_new(void);
void pw_services_attempt(pw_services *s, const pw_attempt *a);
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
void pw_services_free(pw_services *s);

#endif
