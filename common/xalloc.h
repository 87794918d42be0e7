/* xalloc.h - allocation for the analysis core, where out of memory ends the
 * run: the connection table, services, scanners, NNR and policy tables are
 * updated in place per connection, and a half-updated table would report
 * wrong figures, which is worse than a clear stop.  Memory there is bounded
 * by caps (stats.caps), so this happens only when the machine itself is out
 * of memory.  (Dissectors and capture/ recover instead: see HACKING.md.) */
#ifndef PW_XALLOC_H
#define PW_XALLOC_H

#include <stddef.h>

/* Each returns memory or, when there is none, prints "out of memory" with
 * what was asked for and exits with status 1 (the runtime-error status). */
void *pw_xcalloc(size_t n, size_t size);
void *pw_xmalloc(size_t size);
void *pw_xrealloc(void *p, size_t n, size_t size);
/* size bytes at an address that is a multiple of align (a power of two). */
void *pw_xaligned(size_t align, size_t size);
char *pw_xstrdup(const char *s);

#endif
