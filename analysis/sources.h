/* sources.h - names of the inputs, so evidence can say which file a frame
 * number belongs to. */
#ifndef PW_SOURCES_H
#define PW_SOURCES_H

#include <stddef.h>
#include <stdint.h>

typedef struct pw_sources {
    const char *const *paths; /* paths[source] */
    size_t n;
} pw_sources;

static inline const char *pw_source_name(const pw_sources *s, uint32_t i)
{
    return s && i < s->n ? s->paths[i] : "?";
}

#endif
