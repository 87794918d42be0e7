/* test_json_dump.c - pw_json_dump() writes exactly what jansson's own
 * dumper writes for the same tree, indented and compact: hand-made edge
 * cases (escapes, control bytes, UTF-8, empty containers, integer limits,
 * reals across exponents) and a few thousand random trees, with jansson
 * as the oracle. */
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

/* Both layouts agree with jansson; false (and the first difference on
 * stderr) when they do not. */
static bool same(const json_t *v)
{
    static const int layouts[] = {2, 0, 4};
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        char *a = ours(v, layouts[i]), *b = theirs(v, layouts[i]);
        bool ok = a && b && strcmp(a, b) == 0;
        if (!ok)
            fprintf(stderr, "indent %d:\n ours:   %s\n jansson: %s\n", layouts[i], a ? a : "(null)",
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

int main(void)
{
    test_edges();
    test_random();
    CHECK_DONE();
}
