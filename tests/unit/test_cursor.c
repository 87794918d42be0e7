/* test_cursor.c - the byte reader every parser uses: reads, the sticky
 * error, sub-cursors, and the peek readers framing code uses to look at a
 * length field without consuming it. */
#include "../../common/cursor.h"
#include "check.h"

static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

static void test_reads(void)
{
    pw_cursor c = pw_cur(bytes, sizeof bytes);
    CHECK_INT(pw_u8(&c), 0x01);
    CHECK_INT(pw_be16(&c), 0x0203);
    CHECK_INT(pw_le16(&c), 0x0504);
    CHECK_INT(pw_be24(&c), 0x060708);
    CHECK(pw_cur_ok(&c));
    CHECK_INT(pw_cur_left(&c), 0);
    /* A read past the end returns 0, does not move and fails for good. */
    CHECK_INT(pw_u8(&c), 0);
    CHECK(!pw_cur_ok(&c));
    CHECK_INT(pw_cur_pos(&c), 8);

    pw_cursor d = pw_cur(bytes, sizeof bytes);
    CHECK_INT(pw_be32(&d), 0x01020304u);
    CHECK_INT(pw_le32(&d), 0x08070605u);
    pw_cursor e = pw_cur(bytes, sizeof bytes);
    CHECK(pw_le64(&e) == 0x0807060504030201ull);
}

/* The peek readers: values in both byte orders at any offset, the cursor
 * never moved nor failed. */
static void test_peek_values(void)
{
    pw_cursor c = pw_cur(bytes, sizeof bytes);
    pw_skip(&c, 1); /* peeks count from the current position */
    uint16_t v16 = 0;
    uint32_t v32 = 0;
    CHECK(pw_peek_be16(&c, 0, &v16));
    CHECK_INT(v16, 0x0203);
    CHECK(pw_peek_le16(&c, 2, &v16));
    CHECK_INT(v16, 0x0504);
    CHECK(pw_peek_be24(&c, 0, &v32));
    CHECK_INT(v32, 0x020304);
    CHECK(pw_peek_be32(&c, 3, &v32));
    CHECK_INT(v32, 0x05060708u);
    CHECK(pw_peek_le32(&c, 3, &v32));
    CHECK_INT(v32, 0x08070605u);
    CHECK_INT(pw_peek_u8(&c, 6), 0x08);
    CHECK_INT(pw_cur_pos(&c), 1);
    CHECK(pw_cur_ok(&c));
    /* The top bit survives (no sign extension). */
    static const uint8_t hi[] = {0xff, 0xfe, 0xfd, 0xfc};
    pw_cursor h = pw_cur(hi, sizeof hi);
    CHECK(pw_peek_be32(&h, 0, &v32));
    CHECK_INT(v32, 0xfffefdfcu);
    CHECK(pw_peek_le32(&h, 0, &v32));
    CHECK_INT(v32, 0xfcfdfeffu);
    CHECK(pw_peek_le16(&h, 2, &v16));
    CHECK_INT(v16, 0xfcfd);
}

/* Every width at every offset of every buffer length: true exactly when the
 * bytes are at hand, and then the value the moving reader returns. */
static void test_peek_bounds(void)
{
    for (size_t len = 0; len <= sizeof bytes; len++) {
        for (size_t ahead = 0; ahead <= sizeof bytes + 1; ahead++) {
            pw_cursor c = pw_cur(bytes, len);
            uint16_t v16 = 0xaaaa;
            uint32_t v32 = 0xaaaaaaaau;
            bool fits2 = ahead + 2 <= len, fits3 = ahead + 3 <= len, fits4 = ahead + 4 <= len;
            pw_cursor r = pw_cur(bytes, len);
            pw_skip(&r, ahead);

            pw_cursor r2 = r;
            uint16_t want16 = pw_be16(&r2);
            CHECK(pw_peek_be16(&c, ahead, &v16) == fits2);
            CHECK_INT(v16, fits2 ? want16 : 0);
            r2 = r;
            want16 = pw_le16(&r2);
            CHECK(pw_peek_le16(&c, ahead, &v16) == fits2);
            CHECK_INT(v16, fits2 ? want16 : 0);
            r2 = r;
            uint32_t want32 = pw_be24(&r2);
            CHECK(pw_peek_be24(&c, ahead, &v32) == fits3);
            CHECK_INT(v32, fits3 ? want32 : 0);
            r2 = r;
            want32 = pw_be32(&r2);
            CHECK(pw_peek_be32(&c, ahead, &v32) == fits4);
            CHECK_INT(v32, fits4 ? want32 : 0);
            r2 = r;
            want32 = pw_le32(&r2);
            CHECK(pw_peek_le32(&c, ahead, &v32) == fits4);
            CHECK_INT(v32, fits4 ? want32 : 0);
            CHECK_INT(pw_cur_pos(&c), 0);
            CHECK(pw_cur_ok(&c));
        }
    }
    /* An offset so large that offset + width wraps must not read. */
    pw_cursor c = pw_cur(bytes, sizeof bytes);
    uint32_t v32 = 1;
    CHECK(!pw_peek_be32(&c, SIZE_MAX - 1, &v32));
    CHECK_INT(v32, 0);
    /* A failed cursor peeks nothing. */
    pw_cur_fail(&c);
    CHECK(!pw_peek_be24(&c, 0, &v32));
    CHECK_INT(pw_peek_u8(&c, 0), 0);
}

static void test_sub_and_at(void)
{
    pw_cursor c = pw_cur(bytes, sizeof bytes);
    pw_cursor s = pw_sub(&c, 3);
    CHECK_INT(pw_cur_left(&s), 3);
    CHECK_INT(pw_u8(&s), 0x01);
    CHECK_INT(pw_cur_pos(&c), 3);
    pw_cursor a = pw_at(&c, 6, 2);
    CHECK_INT(pw_be16(&a), 0x0708);
    CHECK_INT(pw_cur_pos(&c), 3); /* pw_at does not move the parent */
    pw_cursor bad = pw_at(&c, 7, 2);
    CHECK(!pw_cur_ok(&bad));
    pw_cursor tooshort = pw_sub(&c, 6);
    CHECK(!pw_cur_ok(&tooshort));
    CHECK(!pw_cur_ok(&c));
    uint8_t out[4] = {9, 9, 9, 9};
    pw_cursor d = pw_cur(bytes, 3);
    CHECK(!pw_copy(&d, out, 4));
    CHECK_INT(out[0], 0); /* zeroed on short input */
}

int main(void)
{
    test_reads();
    test_peek_values();
    test_peek_bounds();
    test_sub_and_at();
    CHECK_DONE();
}
