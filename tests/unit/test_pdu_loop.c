/* test_pdu_loop.c - the shared length-prefixed PDU loop (dissectors/pdu_loop.c)
 * driven by a toy protocol: a type byte, a BE16 length of the whole PDU,
 * then the body.  Type 'R' asks to be read whole, 'S' to be passed over,
 * 'X' is not the protocol (frame STOP), 'E' / 'D' end the stream from
 * handle() (END / DONE), 'Z' claims a zero length. */
#include <stdlib.h>

#include "../../dissectors/pdu_loop.h"
#include "check.h"

#define MAX_SEEN 16

typedef struct toy_state {
    pw_pdu_state loop;
    int n;
    struct {
        uint8_t type;
        size_t len;   /* pdu->len */
        size_t given; /* bytes handed to handle() */
        bool read;
        uint8_t last; /* last byte handed over */
    } seen[MAX_SEEN];
    int passed;
    int frames_waited;
} toy_state;

static pw_pdu_step toy_frame(const pw_dctx *ctx, void *state, const pw_cursor *c, pw_pdu *pdu)
{
    (void)ctx;
    toy_state *st = state;
    uint16_t len = 0;
    if (!pw_peek_be16(c, 1, &len)) {
        st->frames_waited++;
        return PW_PDU_WAIT;
    }
    uint8_t type = pw_peek_u8(c, 0);
    if (type == 'X')
        return PW_PDU_STOP;
    pdu->len = type == 'Z' ? 0 : len;
    pdu->read = type == 'R' || type == 'E' || type == 'D';
    return PW_PDU_NEXT;
}

static pw_pdu_step toy_handle(const pw_dctx *ctx, void *state, const pw_pdu *pdu, pw_cursor bytes)
{
    (void)ctx;
    toy_state *st = state;
    uint8_t type = pw_peek_u8(&bytes, 0);
    if (st->n < MAX_SEEN) {
        st->seen[st->n].type = type;
        st->seen[st->n].len = pdu->len;
        st->seen[st->n].given = pw_cur_left(&bytes);
        st->seen[st->n].read = pdu->read;
        st->seen[st->n].last = pw_peek_u8(&bytes, pw_cur_left(&bytes) - 1);
    }
    st->n++;
    return type == 'E' ? PW_PDU_END : type == 'D' ? PW_PDU_DONE : PW_PDU_NEXT;
}

static void toy_passed(const pw_dctx *ctx, void *state)
{
    (void)ctx;
    ((toy_state *)state)->passed++;
}

static pw_pdu_ops toy_ops = {.frame = toy_frame, .handle = toy_handle, .passed = toy_passed, .max_len = 100};

/* A stand-in for capture: keeps each direction's unconsumed bytes. */
typedef struct feeder {
    toy_state st;
    uint8_t pend[2][1024];
    size_t plen[2];
    bool done;
    size_t returned_len; /* stream calls that consumed everything offered */
} feeder;

static void feed(feeder *f, int dir, const uint8_t *p, size_t n)
{
    memcpy(f->pend[dir] + f->plen[dir], p, n);
    f->plen[dir] += n;
    pw_flow flow;
    memset(&flow, 0, sizeof flow);
    pw_dctx ctx = {.flow = &flow, .dir = dir};
    size_t used = pw_pdu_stream(&toy_ops, &f->st.loop, &ctx, &f->st, f->pend[dir], f->plen[dir], &f->done);
    CHECK(used <= f->plen[dir]);
    if (used > f->plen[dir])
        used = f->plen[dir];
    f->returned_len += used == f->plen[dir];
    memmove(f->pend[dir], f->pend[dir] + used, f->plen[dir] - used);
    f->plen[dir] -= used;
}

/* Writes a toy PDU of `len` bytes whose body bytes count up from 1. */
static size_t put(uint8_t *out, uint8_t type, uint16_t len)
{
    out[0] = type;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    for (size_t i = 3; i < len; i++)
        out[i] = (uint8_t)i;
    return len;
}

/* R(10) S(40) R(5) S(200, oversized read) R(3): every split of the stream into
 * two feeds gives the same PDUs; passed-over PDUs are handed over as far as
 * they are at hand and nothing is left pending. */
static void test_splits(void)
{
    uint8_t s[512];
    size_t n = 0;
    n += put(s + n, 'R', 10);
    n += put(s + n, 'S', 40);
    n += put(s + n, 'R', 5);
    n += put(s + n, 'S', 200);
    n += put(s + n, 'R', 3);
    for (size_t cut = 0; cut <= n; cut++) {
        feeder *f = calloc(1, sizeof *f);
        feed(f, 0, s, cut);
        feed(f, 0, s + cut, n - cut);
        CHECK_INT(f->st.n, 5);
        CHECK_INT(f->plen[0], 0);
        CHECK(!f->done);
        CHECK_INT(f->st.seen[0].len, 10);
        CHECK(f->st.seen[0].read);
        CHECK_INT(f->st.seen[0].given, 10); /* read PDUs always whole */
        CHECK_INT(f->st.seen[0].last, 9);
        CHECK_INT(f->st.seen[1].len, 40);
        CHECK(!f->st.seen[1].read);
        /* a passed-over PDU: what was at hand of it when it was framed */
        size_t s_start = 10;
        bool header_in_first = cut >= s_start + 3 && cut < s_start + 40;
        CHECK_INT(f->st.seen[1].given, header_in_first ? cut - s_start : 40);
        CHECK_INT(f->st.passed, (header_in_first ? 1 : 0) + (cut >= 58 && cut < 255 ? 1 : 0));
        CHECK_INT(f->st.seen[2].len, 5);
        CHECK_INT(f->st.seen[2].given, 5);
        CHECK_INT(f->st.seen[3].type, 'S');
        CHECK_INT(f->st.seen[3].len, 200);
        CHECK(!f->st.seen[3].read); /* over max_len: passed over though it asked */
        CHECK_INT(f->st.seen[4].type, 'R');
        CHECK_INT(f->st.seen[4].given, 3);
        free(f);
    }
}

/* Byte by byte: each PDU handed over once; the loop waits for headers and
 * for wanted PDUs; each passed-over PDU calls passed() once its last byte
 * went by (the header arrived with the first bytes, so none came whole). */
static void test_byte_by_byte(void)
{
    uint8_t s[512];
    size_t n = 0;
    n += put(s + n, 'S', 40);
    n += put(s + n, 'R', 30);
    n += put(s + n, 'S', 150);
    feeder *f = calloc(1, sizeof *f);
    for (size_t i = 0; i < n; i++)
        feed(f, 0, s + i, 1);
    CHECK_INT(f->st.n, 3);
    CHECK_INT(f->st.seen[0].given, 3);
    CHECK_INT(f->st.seen[1].given, 30);
    CHECK_INT(f->st.seen[1].last, 29);
    CHECK_INT(f->st.seen[2].given, 3);
    CHECK_INT(f->st.passed, 2);
    CHECK_INT(f->plen[0], 0);
    CHECK(f->st.frames_waited > 0);
    free(f);
}

/* Directions keep their own pass-over counts. */
static void test_directions(void)
{
    uint8_t a[64], b[16];
    put(a, 'S', 60);
    put(b, 'R', 12);
    feeder *f = calloc(1, sizeof *f);
    feed(f, 0, a, 20);            /* 40 bytes of dir 0 still to pass over */
    feed(f, 1, b, 12);            /* dir 1 frames its own PDU at once */
    CHECK_INT(f->st.n, 2);
    CHECK_INT(f->st.seen[1].type, 'R');
    CHECK_INT(f->st.loop.skip[0], 40);
    CHECK_INT(f->st.loop.skip[1], 0);
    feed(f, 0, a + 20, 40);
    CHECK_INT(f->st.passed, 1);
    CHECK_INT(f->st.loop.skip[0], 0);
    free(f);
}

/* STOP consumes everything and ends; END stops after its PDU and later
 * bytes are consumed unread; DONE stops after its PDU but parsing goes on
 * if more is offered; a zero-length PDU stops rather than loops. */
static void test_endings(void)
{
    uint8_t s[64];
    size_t n = put(s, 'R', 4);
    n += put(s + n, 'X', 10);
    n += put(s + n, 'R', 4);
    feeder *f = calloc(1, sizeof *f);
    feed(f, 0, s, n);
    CHECK(f->done);
    CHECK_INT(f->st.n, 1);
    CHECK_INT(f->plen[0], 0);
    CHECK(f->st.loop.ended);
    feed(f, 0, s, 4); /* ended: consumed unread */
    CHECK_INT(f->st.n, 1);
    CHECK_INT(f->plen[0], 0);
    free(f);

    n = put(s, 'E', 5);
    n += put(s + n, 'R', 4);
    f = calloc(1, sizeof *f);
    feed(f, 0, s, n);
    CHECK(f->done);
    CHECK_INT(f->st.n, 1);
    CHECK_INT(f->plen[0], 4); /* returned what it consumed: the E PDU */
    feed(f, 0, s, 0);
    CHECK_INT(f->st.n, 1);
    CHECK_INT(f->plen[0], 0);
    free(f);

    n = put(s, 'D', 5);
    n += put(s + n, 'R', 4);
    f = calloc(1, sizeof *f);
    feed(f, 0, s, n);
    CHECK(f->done);
    CHECK_INT(f->st.n, 1);
    CHECK_INT(f->plen[0], 4);
    CHECK(!f->st.loop.ended);
    feed(f, 0, s, 0); /* DONE: the next call parses on */
    CHECK_INT(f->st.n, 2);
    CHECK_INT(f->st.seen[1].type, 'R');
    CHECK_INT(f->plen[0], 0);
    free(f);

    n = put(s, 'Z', 9);
    f = calloc(1, sizeof *f);
    feed(f, 0, s, n);
    CHECK(f->done);
    CHECK_INT(f->st.n, 0);
    CHECK_INT(f->plen[0], 0);
    free(f);
}

int main(void)
{
    test_splits();
    test_byte_by_byte();
    test_directions();
    test_endings();
    CHECK_DONE();
}
