/* test_etcd_client.c: the shared etcd client's codec (base64 both ways, the gateway's numbers, the prefix range)
 * that the redirect and cluster engines put every key and value through. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engines/etcd_client.h"
#include "tests/unit/evloop_stub.h" /* the codec runs no loop */

#ifdef HAVE_ETCD

START_TEST(b64_round_trip)
{
	/* Every padding case, and octets with the high bit set (GUIDs, UTF-8 names). */
	const char *in[] = {"", "a", "ab", "abc", "abcd", "/sanagent/cluster/c1/crt", "\xff\xfe\x80\x01"};
	const char *want[] = {"", "YQ==", "YWI=", "YWJj", "YWJjZA==", "L3NhbmFnZW50L2NsdXN0ZXIvYzEvY3J0", "//6AAQ=="};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *e = sa_etcd_b64_enc(in[i], strlen(in[i])), *d;

		ck_assert_str_eq(e, want[i]);
		d = sa_etcd_b64_dec(e);
		ck_assert_str_eq(d, in[i]);
		free(e);
		free(d);
	}
	ck_assert_ptr_null(sa_etcd_b64_dec("YW*j"));
}
END_TEST

START_TEST(numbers_and_ranges)
{
	json_t *s = json_string("9007199254740993"), *i = json_integer(42), *r;
	char *k, *e;

	/* The gateway writes int64 as strings: larger than a double holds exactly. */
	ck_assert(sa_etcd_jll(s) == 9007199254740993LL);
	ck_assert(sa_etcd_jll(i) == 42);
	ck_assert(sa_etcd_jll(NULL) == 0);
	r = sa_etcd_prefix_range("/x/");
	k = sa_etcd_b64_dec(json_string_value(json_object_get(r, "key")));
	e = sa_etcd_b64_dec(json_string_value(json_object_get(r, "range_end")));
	ck_assert_str_eq(k, "/x/");
	ck_assert_str_eq(e, "/x0"); /* every key under /x/ and nothing else */
	ck_assert_ptr_null(sa_etcd_prefix_range(""));
	free(k);
	free(e);
	json_decref(r);
	json_decref(s);
	json_decref(i);
}
END_TEST

#endif

int main(void)
{
	Suite *s = suite_create("etcd_client");
	TCase *tc = tcase_create("codec");
	SRunner *sr;
	int failed;

#ifdef HAVE_ETCD
	tcase_add_test(tc, b64_round_trip);
	tcase_add_test(tc, numbers_and_ranges);
#endif
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
