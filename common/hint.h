/* hint.h - PW_HINT_FN marks a function that only starts loading memory (a
 * prefetch hint).  GCC's interprocedural analysis finds such a function free
 * of side effects, and drops each call to it whose result is unused (all of
 * them) wherever the call is not inlined; noipa keeps the calls. */
#ifndef PW_HINT_H
#define PW_HINT_H

#if defined(__GNUC__) && !defined(__clang__)
#define PW_HINT_FN __attribute__((noipa))
#else
#define PW_HINT_FN
#endif

#endif
