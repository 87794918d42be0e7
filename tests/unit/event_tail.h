/* event_tail.h - an event holds nothing past pw_event_size(): the bytes
 * from there to the end of its type's member are the zeroes
 * pw_event_init wrote, so a copy that stops there (cli/handoff.c) loses
 * nothing.  The sinks of the dissector tests check every event they get.
 * Include after check.h. */
#ifndef PW_EVENT_TAIL_H
#define PW_EVENT_TAIL_H

#include "../../dissectors/events.h"

/* Non-zero bytes of ev between pw_event_size() and its type's size. */
static inline size_t event_tail_written(const pw_event *ev)
{
    const unsigned char *b = (const unsigned char *)ev;
    size_t n = 0;
    for (size_t i = pw_event_size(ev); i < pw_event_type_size(ev->type); i++)
        n += b[i] != 0;
    return n;
}

#define CHECK_EVENT_TAIL(ev) CHECK_INT(event_tail_written(ev), 0)

#endif
