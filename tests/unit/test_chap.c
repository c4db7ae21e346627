/* test_chap.c: MD5 against RFC 1321's test suite, CHAP responses, and the 0x/0b binary value codecs. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi/chap.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* RFC 1321 appendix A.5. */
static const struct {
	const char *in, *md5;
} rfc1321[] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};

START_TEST(test_md5_rfc1321)
{
	uint8_t d[16];
	char h[33];

	for (size_t i = 0; i < sizeof(rfc1321) / sizeof(rfc1321[0]); i++) {
		chap_md5(rfc1321[i].in, strlen(rfc1321[i].in), d);
		hex(d, 16, h);
		ck_assert_str_eq(h, rfc1321[i].md5);
	}
}
END_TEST

/* Feeding bytes in odd pieces gives the one-shot digest (block boundaries). */
START_TEST(test_md5_incremental)
{
	const char *s = rfc1321[6].in;
	size_t len = strlen(s);
	uint8_t d[16];
	char h[33];

	for (size_t step = 1; step < 70; step += 3) {
		struct chap_md5 c;

		chap_md5_init(&c);
		for (size_t off = 0; off < len; off += step)
			chap_md5_update(&c, s + off, off + step > len ? len - off : step);
		chap_md5_final(&c, d);
		hex(d, 16, h);
		ck_assert_str_eq(h, rfc1321[6].md5);
	}
}
END_TEST

/* Expected values computed independently (Python hashlib.md5 of id || secret || challenge). */
START_TEST(test_chap_vectors)
{
	uint8_t ch[16], r[16], ch2[8];
	char h[33];
	size_t n;

	for (int i = 0; i < 16; i++)
		ch[i] = (uint8_t)i;
	ck_assert_int_eq(chap_response(0x2a, "sanagent-secret", 15, ch, 16, r), 0);
	hex(r, 16, h);
	ck_assert_str_eq(h, "537f720f50c08768b727670b3dc0b642");

	ck_assert_int_eq(chap_decode("0xD4A1F05B6C9E3E2A", ch2, sizeof(ch2), &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(chap_response(0xff, "duser-pass-12", 13, ch2, n, r), 0);
	hex(r, 16, h);
	ck_assert_str_eq(h, "1b2d9e0aa3d4c8da941ce5fa99f8e33d");
}
END_TEST

START_TEST(test_codecs)
{
	uint8_t b[16], big[4];
	char enc[64];
	size_t n;

	ck_assert_int_eq(chap_decode("0x0aff", b, sizeof(b), &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(b[0], 0x0a);
	ck_assert_uint_eq(b[1], 0xff);
	/* odd digit count: leading nibble */
	ck_assert_int_eq(chap_decode("0xabc", b, sizeof(b), &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(b[0], 0x0a);
	ck_assert_uint_eq(b[1], 0xbc);
	/* base64 "sanagent" */
	ck_assert_int_eq(chap_decode("0bc2FuYWdlbnQ=", b, sizeof(b), &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert(memcmp(b, "sanagent", 8) == 0);
	ck_assert_int_eq(chap_decode("0bc2FuYWdlbnQ", b, sizeof(b), &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(chap_decode("12ab", b, sizeof(b), &n), -EINVAL);
	ck_assert_int_eq(chap_decode("0x", b, sizeof(b), &n), -EINVAL);
	ck_assert_int_eq(chap_decode("0xzz", b, sizeof(b), &n), -EINVAL);
	ck_assert_int_eq(chap_decode("0b!!", b, sizeof(b), &n), -EINVAL);
	ck_assert_int_eq(chap_decode("0x0102030405", big, sizeof(big), &n), -E2BIG);

	b[0] = 0x00;
	b[1] = 0x7f;
	b[2] = 0xa5;
	chap_encode(b, 3, enc);
	ck_assert_str_eq(enc, "0x007fa5");
	ck_assert_int_eq(chap_decode(enc, big, sizeof(big), &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(memcmp(big, b, 3) == 0);
}
END_TEST

START_TEST(test_random_equal)
{
	uint8_t a[16], b[16];

	ck_assert_int_eq(chap_random(a, sizeof(a)), 0);
	ck_assert_int_eq(chap_random(b, sizeof(b)), 0);
	ck_assert(!chap_equal(a, b, sizeof(a)));
	memcpy(b, a, sizeof(a));
	ck_assert(chap_equal(a, b, sizeof(a)));
	b[15] ^= 1;
	ck_assert(!chap_equal(a, b, sizeof(a)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_md5_rfc1321);
	tcase_add_test(tc, test_md5_incremental);
	tcase_add_test(tc, test_chap_vectors);
	tcase_add_test(tc, test_codecs);
	tcase_add_test(tc, test_random_equal);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
