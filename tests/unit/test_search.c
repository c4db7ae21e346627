/* test_search.c: unit tests for the one binary search (common/search.h): its edges, with integer and other keys. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "common/search.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static int int_cmp(const void *elem, const void *key)
{
	int e = *(const int *)elem, k = *(const int *)key;

	return e < k ? -1 : e > k;
}

static int str_cmp(const void *elem, const void *key)
{
	return strcmp(*(const char *const *)elem, key);
}

struct pair {
	uint32_t a, b;
};

static int pair_cmp(const void *elem, const void *key)
{
	const struct pair *e = elem, *k = key;

	if (e->a != k->a)
		return e->a < k->a ? -1 : 1;
	return e->b < k->b ? -1 : e->b > k->b;
}

static int64_t u32_key(const void *elem)
{
	return *(const uint32_t *)elem;
}

START_TEST(cmp_empty)
{
	int k = 5;

	ck_assert_uint_eq(cm_lower_bound_cmp(NULL, 0, sizeof(int), &k, int_cmp), 0);
}
END_TEST

START_TEST(cmp_all_less_and_all_greater)
{
	const int v[] = {1, 2, 3, 4, 5};
	int big = 6, small = 0;

	ck_assert_uint_eq(cm_lower_bound_cmp(v, LEN(v), sizeof(*v), &big, int_cmp), LEN(v));
	ck_assert_uint_eq(cm_lower_bound_cmp(v, LEN(v), sizeof(*v), &small, int_cmp), 0);
}
END_TEST

START_TEST(cmp_duplicates_give_the_first)
{
	const int v[] = {1, 3, 3, 3, 3, 7, 7, 9};
	const int same[] = {2, 2, 2, 2};
	int k;

	k = 3;
	ck_assert_uint_eq(cm_lower_bound_cmp(v, LEN(v), sizeof(*v), &k, int_cmp), 1);
	k = 7;
	ck_assert_uint_eq(cm_lower_bound_cmp(v, LEN(v), sizeof(*v), &k, int_cmp), 5);
	k = 4; /* absent, between duplicates: the first greater */
	ck_assert_uint_eq(cm_lower_bound_cmp(v, LEN(v), sizeof(*v), &k, int_cmp), 5);
	k = 2; /* all equal: the first of them */
	ck_assert_uint_eq(cm_lower_bound_cmp(same, LEN(same), sizeof(*same), &k, int_cmp), 0);
}
END_TEST

/* Every position of every length up to 33 against a linear scan. */
START_TEST(cmp_matches_a_scan)
{
	int v[33];

	for (size_t n = 0; n <= LEN(v); n++) {
		for (size_t i = 0; i < n; i++)
			v[i] = (int)(i / 3) * 2; /* duplicates and gaps */
		for (int k = -1; k <= (int)(n / 3) * 2 + 1; k++) {
			size_t want = 0;

			while (want < n && v[want] < k)
				want++;
			ck_assert_uint_eq(cm_lower_bound_cmp(v, n, sizeof(*v), &k, int_cmp), want);
		}
	}
}
END_TEST

START_TEST(cmp_strings_and_composite_keys)
{
	const char *const s[] = {"alpha", "beta", "beta", "gamma"};
	const struct pair p[] = {{1, 5}, {2, 1}, {2, 7}, {3, 0}};
	struct pair k = {2, 2};

	ck_assert_uint_eq(cm_lower_bound_cmp(s, LEN(s), sizeof(*s), "beta", str_cmp), 1);
	ck_assert_uint_eq(cm_lower_bound_cmp(s, LEN(s), sizeof(*s), "b", str_cmp), 1);
	ck_assert_uint_eq(cm_lower_bound_cmp(s, LEN(s), sizeof(*s), "zeta", str_cmp), LEN(s));
	ck_assert_uint_eq(cm_lower_bound_cmp(p, LEN(p), sizeof(*p), &k, pair_cmp), 2);
	k = (struct pair){2, 1};
	ck_assert_uint_eq(cm_lower_bound_cmp(p, LEN(p), sizeof(*p), &k, pair_cmp), 1);
}
END_TEST

/* The integer form: "after UINT32_MAX" must not wrap to 0. */
START_TEST(int_key_edges)
{
	const uint32_t v[] = {0, 7, 7, UINT32_MAX};

	ck_assert_uint_eq(cm_lower_bound(NULL, 0, sizeof(uint32_t), 3, u32_key), 0);
	ck_assert_uint_eq(cm_lower_bound(v, LEN(v), sizeof(*v), 0, u32_key), 0);
	ck_assert_uint_eq(cm_lower_bound(v, LEN(v), sizeof(*v), 7, u32_key), 1);
	ck_assert_uint_eq(cm_lower_bound(v, LEN(v), sizeof(*v), 8, u32_key), 3);
	ck_assert_uint_eq(cm_lower_bound(v, LEN(v), sizeof(*v), UINT32_MAX, u32_key), 3);
	ck_assert_uint_eq(cm_lower_bound(v, LEN(v), sizeof(*v), (int64_t)UINT32_MAX + 1, u32_key), LEN(v));
	ck_assert_uint_eq(cm_lower_bound(v, LEN(v), sizeof(*v), -1, u32_key), 0);
}
END_TEST

/* GET and GETNEXT over one array: a key that is there, one that is not, after the last. */
START_TEST(find_and_next)
{
	const uint32_t v[] = {2, 5, UINT32_MAX};

	ck_assert_ptr_eq(cm_find_key(v, LEN(v), sizeof(*v), 5, u32_key), &v[1]);
	ck_assert_ptr_null(cm_find_key(v, LEN(v), sizeof(*v), 4, u32_key));
	ck_assert_ptr_null(cm_find_key(NULL, 0, sizeof(*v), 4, u32_key));
	ck_assert_ptr_eq(cm_next_key(v, LEN(v), sizeof(*v), 0, u32_key), &v[0]);
	ck_assert_ptr_eq(cm_next_key(v, LEN(v), sizeof(*v), 2, u32_key), &v[1]);
	ck_assert_ptr_eq(cm_next_key(v, LEN(v), sizeof(*v), 5, u32_key), &v[2]);
	ck_assert_ptr_null(cm_next_key(v, LEN(v), sizeof(*v), UINT32_MAX, u32_key));
}
END_TEST

/* The hinted search answers what the plain one does whatever the hint, stale ones (past n, from an older array)
 * included, and leaves the answer as the next hint; a walk's next lookup then finds it at the hint. */
START_TEST(hint_matches_plain)
{
	uint32_t v[20];

	for (size_t n = 0; n <= LEN(v); n++) {
		for (size_t i = 0; i < n; i++)
			v[i] = (uint32_t)(i * 3 + (i > 7)); /* gaps of 3, one of 4 */
		for (int64_t k = 0; k <= (int64_t)n * 3 + 2; k++)
			for (size_t h = 0; h <= n + 3; h++) {
				size_t hint = h, want = cm_lower_bound(v, n, sizeof(*v), k, u32_key);

				ck_assert_uint_eq(cm_lower_bound_hint(v, n, sizeof(*v), k, u32_key, &hint), want);
				ck_assert_uint_eq(hint, want);
			}
	}
	ck_assert_uint_eq(cm_lower_bound_hint(NULL, 0, sizeof(uint32_t), 3, u32_key, &(size_t){SIZE_MAX}), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("lower_bound");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, cmp_empty);
	tcase_add_test(tc, cmp_all_less_and_all_greater);
	tcase_add_test(tc, cmp_duplicates_give_the_first);
	tcase_add_test(tc, cmp_matches_a_scan);
	tcase_add_test(tc, cmp_strings_and_composite_keys);
	tcase_add_test(tc, int_key_edges);
	tcase_add_test(tc, find_and_next);
	tcase_add_test(tc, hint_matches_plain);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
