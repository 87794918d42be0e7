/* test_json_dump.c - pw_json_dump() writes exactly what jansson's own
 * dumper writes for the same tree, indented and compact: hand-made edge
 * cases (escapes, control bytes, UTF-8, empty containers, integer limits,
 * reals across exponents) and a few thousand random trees, with jansson
 * as the oracle.  The same trees written value by value through pw_jw
 * (some values handed over as trees) give the same text, and the tree
 * writer gives back an equal tree. */
#include <float.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../report/json_dump.h"
#include "check.h"

static char *ours(const json_t *v, int indent)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    pw_json_dump(out, v, indent);
    fclose(out);
    return buf;
}

static char *theirs(const json_t *v, int indent)
{
    size_t flags = JSON_REAL_PRECISION(16) | (indent ? JSON_INDENT(indent) : JSON_COMPACT);
    return json_dumps(v, flags);
}

/* v written through pw_jw call by call; a string with a NUL in it (which
 * pw_jw_string cannot take) and, when `mix`, every third value below the
 * top go over as trees. */
static void replay(pw_jw *w, const json_t *v, bool mix, int depth)
{
    static unsigned turn;
    if (depth > 0 && ((mix && ++turn % 3 == 0) ||
                      (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v)))) {
        pw_jw_tree(w, json_incref((json_t *)v));
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        pw_jw_object(w);
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x)
        {
            pw_jw_key(w, key);
            replay(w, x, mix, depth + 1);
        }
        pw_jw_close(w);
        break;
    }
    case JSON_ARRAY: {
        pw_jw_array(w);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
            replay(w, x, mix, depth + 1);
        pw_jw_close(w);
        break;
    }
    case JSON_STRING: pw_jw_string(w, json_string_value(v)); break;
    case JSON_INTEGER: pw_jw_integer(w, json_integer_value(v)); break;
    case JSON_REAL: pw_jw_real(w, json_real_value(v)); break;
    case JSON_TRUE: pw_jw_bool(w, true); break;
    case JSON_FALSE: pw_jw_bool(w, false); break;
    case JSON_NULL: pw_jw_null(w); break;
    }
}

/* What a writer's calls (fill, with its argument) make: as text, or as a
 * tree. */
typedef void (*fill_fn)(pw_jw *w, const void *arg);

static char *as_text(fill_fn fill, const void *arg, int indent)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    pw_jw w;
    pw_jw_begin_text(&w, out, indent);
    fill(&w, arg);
    CHECK(pw_jw_finish(&w) == NULL);
    fclose(out);
    return buf;
}

static json_t *as_tree(fill_fn fill, const void *arg)
{
    pw_jw w;
    pw_jw_begin_tree(&w);
    fill(&w, arg);
    return pw_jw_finish(&w);
}

static void replay_plain(pw_jw *w, const void *v) { replay(w, v, false, 0); }
static void replay_mixed(pw_jw *w, const void *v) { replay(w, v, true, 0); }

static bool rebuilt_equal(const json_t *v, fill_fn fill)
{
    json_t *t = as_tree(fill, v);
    bool ok = json_equal(t, (json_t *)v);
    json_decref(t);
    return ok;
}

/* Both layouts agree with jansson, dumped and streamed, and the tree
 * writer gives back an equal tree; false (and the first difference on
 * stderr) when not. */
static bool same(const json_t *v)
{
    if (!rebuilt_equal(v, replay_plain) || !rebuilt_equal(v, replay_mixed)) {
        fprintf(stderr, "the tree writer changed a tree\n");
        return false;
    }
    static const int layouts[] = {2, 0, 4};
    for (size_t i = 0; i < 3 * sizeof layouts / sizeof layouts[0]; i++) {
        int layout = layouts[i % 3];
        char *a = i < 3 ? ours(v, layout) : as_text(i < 6 ? replay_plain : replay_mixed, v, layout);
        char *b = theirs(v, layout);
        bool ok = a && b && strcmp(a, b) == 0;
        if (!ok)
            fprintf(stderr, "indent %d (%s):\n ours:   %s\n jansson: %s\n", layout,
                    i < 3 ? "dumped" : i < 6 ? "streamed" : "streamed with trees", a ? a : "(null)",
                    b ? b : "(null)");
        free(a);
        free(b);
        if (!ok)
            return false;
    }
    return true;
}

static void test_edges(void)
{
    json_t *o = json_object();
    json_object_set_new(o, "empty_object", json_object());
    json_object_set_new(o, "empty_array", json_array());
    json_object_set_new(o, "empty_string", json_string(""));
    json_object_set_new(o, "escapes", json_string("quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f"));
    json_object_set_new(o, "controls", json_stringn("\x01\x02\x1f\x7f end", 8));
    json_object_set_new(o, "nul", json_stringn("a\0b", 3));
    json_object_set_new(o, "utf8", json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    json_object_set_new(o, "key \"with\" \\ escapes\n", json_true());
    json_object_set_new(o, "false", json_false());
    json_object_set_new(o, "null", json_null());
    json_t *ints = json_array();
    const json_int_t iv[] = {0, 1, -1, 9, 10, 99, 100, 65535, 4294967296LL, INT64_MAX, INT64_MIN, -1234567890123LL};
    for (size_t i = 0; i < sizeof iv / sizeof iv[0]; i++)
        json_array_append_new(ints, json_integer(iv[i]));
    json_object_set_new(o, "integers", ints);
    json_t *reals = json_array();
    const double rv[] = {0.0, -0.0, 1.0, -1.5, 0.1, 1e-7, 1.5e-300, 1e21, 1e100, 123456789012345678.0,
                         1700000000.123456, 1700000499.96306, 0.333, 2.5e-5, DBL_MAX, DBL_MIN, -7e22};
    for (size_t i = 0; i < sizeof rv / sizeof rv[0]; i++)
        json_array_append_new(reals, json_real(rv[i]));
    json_object_set_new(o, "reals", reals);
    json_t *nest = json_array();
    json_array_append_new(nest, json_pack("{s:[i,{}],s:{s:[]}}", "a", 1, "b", "c"));
    json_array_append_new(nest, json_array());
    json_object_set_new(o, "nested", nest);
    CHECK(same(o));
    json_decref(o);

    json_t *a = json_array();
    CHECK(same(a));
    json_array_append_new(a, json_object());
    CHECK(same(a));
    json_decref(a);
}

/* ---- random trees ------------------------------------------------------- */

/* A valid UTF-8 string of up to 24 characters, control bytes and the
 * characters JSON escapes included. */
static json_t *random_string(void)
{
    char b[128];
    size_t n = 0, len = check_rand(25);
    static const char *const multi[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xd7\x90"};
    for (size_t i = 0; i < len; i++) {
        uint32_t k = check_rand(10);
        if (k == 0) {
            const char *m = multi[check_rand(4)];
            memcpy(b + n, m, strlen(m));
            n += strlen(m);
        } else if (k == 1) {
            b[n++] = (char)(1 + check_rand(0x1f));
        } else if (k == 2) {
            b[n++] = "\"\\/"[check_rand(3)];
        } else {
            b[n++] = (char)(0x20 + check_rand(0x60));
        }
    }
    return json_stringn(b, n);
}

static json_t *random_value(int depth)
{
    uint32_t k = check_rand(depth > 4 ? 6 : 9);
    switch (k) {
    case 0: return json_integer((json_int_t)((uint64_t)check_rand(UINT32_MAX) << check_rand(32)) * (check_rand(2) ? 1 : -1));
    case 1: {
        double m = (double)check_rand(UINT32_MAX) / (1.0 + check_rand(1000));
        int e = (int)check_rand(80) - 40;
        double v = m;
        for (; e > 0; e--)
            v *= 10;
        for (; e < 0; e++)
            v /= 10;
        return json_real(check_rand(2) ? v : -v);
    }
    case 2: return random_string();
    case 3: return json_boolean(check_rand(2));
    case 4: return json_null();
    case 5: return json_integer(check_rand(1000));
    case 6:
    case 7: {
        json_t *o = json_object();
        for (uint32_t i = check_rand(6); i > 0; i--) {
            json_t *key = random_string();
            json_object_setn_new(o, json_string_value(key), json_string_length(key), random_value(depth + 1));
            json_decref(key);
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        for (uint32_t i = check_rand(6); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    }
}

static void test_random(void)
{
    int bad = 0;
    for (int i = 0; i < 3000 && bad < 3; i++) {
        json_t *root = check_rand(2) ? json_object() : json_array();
        for (uint32_t k = check_rand(8); k > 0; k--) {
            json_t *v = random_value(1);
            if (json_is_object(root)) {
                char key[16];
                snprintf(key, sizeof key, "k%u", check_rand(100));
                json_object_set_new(root, key, v);
            } else {
                json_array_append_new(root, v);
            }
        }
        if (!same(root))
            bad++;
        json_decref(root);
    }
    CHECK_INT(bad, 0);
}

/* A string that is not UTF-8 is written with U+FFFD for each stray byte,
 * the same in text and in a tree (jansson itself refuses it). */
static void string_in_array(pw_jw *w, const void *s)
{
    pw_jw_array(w);
    pw_jw_string(w, s);
    pw_jw_close(w);
}

static void test_not_utf8(void)
{
    const char *bad = "a\xff b\xc3 c\xe2\x82 \xed\xa0\x80 \xc3\xa9";
    const char *fixed = "a\xef\xbf\xbd b\xef\xbf\xbd c\xef\xbf\xbd\xef\xbf\xbd "
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xc3\xa9";
    CHECK(json_string(bad) == NULL);
    json_t *want = json_pack("[s]", fixed);
    char *buf = as_text(string_in_array, bad, 0), *expect = theirs(want, 0);
    CHECK_STR(buf, expect);
    json_t *t = as_tree(string_in_array, bad);
    CHECK(json_equal(t, want));
    json_decref(t);
    json_decref(want);
    free(expect);
    free(buf);
}

/* Timestamps: the text pw_jw_seconds writes is jansson's for the same
 * real, on the fast path (2001 to 2106) and off it, and a tree holds that
 * real. */
static void seconds_in_array(pw_jw *w, const void *t)
{
    pw_jw_array(w);
    pw_jw_seconds(w, *(const int64_t *)t);
    pw_jw_close(w);
}

static void test_seconds(void)
{
    const int64_t M = 1000000;
    const int64_t edges[] = {0, 1, -1, 999999, 123456789012345LL, 1000000000 * M - 1, 1000000000 * M,
                             1000000000 * M + 1, 1700000000 * M, 1700000000 * M + 123456, 1700000499 * M + 963060,
                             ((int64_t)1 << 32) * M - 1, ((int64_t)1 << 32) * M, ((int64_t)1 << 32) * M + 10,
                             9999999999 * M + 999999, -1700000000 * M - 5};
    int bad = 0;
    for (int i = 0; i < 200000 && bad < 3; i++) {
        int64_t t;
        if (i < (int)(sizeof edges / sizeof edges[0]))
            t = edges[i];
        else if (i % 4) /* 2001 to 2106, some with trailing zeros in the microseconds */
            t = (1000000000 + (int64_t)check_rand(3294967295u)) * M +
                check_rand(1000000) / (check_rand(3) ? 1 : 1000) * (i % 3 ? 1 : 1000) % M;
        else
            t = ((int64_t)check_rand(UINT32_MAX) << check_rand(24)) * (check_rand(2) ? 1 : -1);
        json_t *want = json_pack("[f]", (double)(t / M) + (double)(t % M) / 1e6);
        char *buf = as_text(seconds_in_array, &t, 0), *expect = theirs(want, 0);
        json_t *tree = as_tree(seconds_in_array, &t);
        if (!expect || strcmp(buf, expect) != 0 || !json_equal(tree, want)) {
            fprintf(stderr, "seconds %lld: ours %s, jansson %s\n", (long long)t, buf, expect);
            bad++;
        }
        json_decref(tree);
        json_decref(want);
        free(expect);
        free(buf);
    }
    CHECK_INT(bad, 0);
}

/* JSON Lines: values at the top, each ended by a line break. */
static void two_lines(pw_jw *w, const void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        pw_jw_object(w);
        pw_jw_key(w, "type");
        pw_jw_string(w, "row");
        pw_jw_key(w, "i");
        pw_jw_integer(w, i);
        pw_jw_close(w);
        pw_jw_newline(w);
    }
}

static void test_lines(void)
{
    char *buf = as_text(two_lines, NULL, 0);
    CHECK_STR(buf, "{\"type\":\"row\",\"i\":0}\n{\"type\":\"row\",\"i\":1}\n");
    free(buf);
}

int main(void)
{
    test_edges();
    test_random();
    test_not_utf8();
    test_seconds();
    test_lines();
    CHECK_DONE();
}
