/* json_arena.h - jansson values for one report from one arena.
 *
 * A report's tree is built, written and dropped at once, and a big one
 * (a flood's: tens of thousands of services, folds and scanner rows) made
 * as many mallocs and frees as it has values, about as costly as building
 * it.  Between begin and end, jansson allocates from blocks taken in
 * 1 MiB steps and frees nothing; end gives the blocks back.  Not for
 * values that outlive end, and for one thread at a time (jansson's
 * allocator hooks are process-wide): the report is written after the
 * analysis thread has stopped. */
#ifndef PW_JSON_ARENA_H
#define PW_JSON_ARENA_H

void pw_json_arena_begin(void);
void pw_json_arena_end(void);

#endif
