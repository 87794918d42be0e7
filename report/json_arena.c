/* json_arena.c - see json_arena.h. */
#include "json_arena.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>

#define BLOCK_BYTES ((size_t)1 << 20)

typedef struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
} block;

static block *blocks;
static json_malloc_t saved_malloc;
static json_free_t saved_free;

static void *arena_malloc(size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!blocks || blocks->cap - blocks->used < n) {
        size_t cap = n > BLOCK_BYTES ? n : BLOCK_BYTES;
        block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL; /* jansson reports it as a failed value */
        b->next = blocks;
        b->used = 0;
        b->cap = cap;
        blocks = b;
    }
    void *p = (char *)blocks->data + blocks->used;
    blocks->used += n;
    return p;
}

static void arena_free(void *p)
{
    (void)p; /* everything goes at pw_json_arena_end */
}

void pw_json_arena_begin(void)
{
    json_get_alloc_funcs(&saved_malloc, &saved_free);
    json_set_alloc_funcs(arena_malloc, arena_free);
}

void pw_json_arena_end(void)
{
    json_set_alloc_funcs(saved_malloc, saved_free);
    while (blocks) {
        block *b = blocks;
        blocks = b->next;
        free(b);
    }
}
