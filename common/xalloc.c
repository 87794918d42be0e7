/* xalloc.c - see xalloc.h. */
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n, size_t size)
{
    fprintf(stderr, "portwitness: out of memory (asked for %zu x %zu bytes)\n", n, size);
    exit(1);
}

void *pw_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n, size);
    return p;
}

void *pw_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(1, size);
    return p;
}

void *pw_xaligned(size_t align, size_t size)
{
    size_t bytes = (size + align - 1) & ~(align - 1); /* aligned_alloc wants a multiple */
    void *p = bytes >= size ? aligned_alloc(align, bytes ? bytes : align) : NULL;
    if (!p)
        out_of_memory(1, size);
    return p;
}

void *pw_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        out_of_memory(n, size);
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        out_of_memory(n, size);
    return q;
}

char *pw_xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        out_of_memory(1, s ? strlen(s) + 1 : 1);
    return d;
}
