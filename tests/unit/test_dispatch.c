/* test_dispatch.c: unit tests for the notification subscription table (traps/dispatch.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "traps/dispatch.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint32_t oid_a[] = {1, 3, 6, 1, 4, 1, 32473, 1, 0, 1};
static const uint32_t oid_a_child[] = {1, 3, 6, 1, 4, 1, 32473, 1, 0, 1, 7};
static const uint32_t oid_b[] = {1, 3, 6, 1, 4, 1, 32473, 1, 0, 2};
static const uint32_t prefix_sa[] = {1, 3, 6, 1, 4, 1, 32473};
static const uint32_t oid_other[] = {1, 3, 6, 1, 6, 3, 1, 1, 5, 1};

struct hits {
	int n;
	const struct cm_trap *last;
};

static void count_cb(const struct cm_trap *t, void *arg)
{
	struct hits *h = arg;

	h->n++;
	h->last = t;
}

static struct cm_trap mk(const uint32_t *oid, size_t len)
{
	struct cm_trap t = {.trap_oid = oid, .trap_oid_len = len, .version = 2, .source = "127.0.0.1:1"};

	return t;
}

START_TEST(exact_match_only)
{
	struct hits h = {0};
	int hd = sa_trap_subscribe(oid_a, LEN(oid_a), 0, count_cb, &h);
	struct cm_trap t;

	ck_assert_int_gt(hd, 0);
	t = mk(oid_a, LEN(oid_a));
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	ck_assert_int_eq(h.n, 1);
	ck_assert_ptr_eq(h.last, &t);
	/* A longer OID under it, a sibling and a shorter one do not match. */
	t = mk(oid_a_child, LEN(oid_a_child));
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
	t = mk(oid_b, LEN(oid_b));
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
	t = mk(oid_a, LEN(oid_a) - 1);
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
	ck_assert_int_eq(h.n, 1);
	sa_trap_unsubscribe(hd);
}
END_TEST

START_TEST(prefix_match)
{
	struct hits h = {0};
	int hd = sa_trap_subscribe(prefix_sa, LEN(prefix_sa), 1, count_cb, &h);
	struct cm_trap t;

	ck_assert_int_gt(hd, 0);
	t = mk(oid_a, LEN(oid_a));
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	t = mk(oid_a_child, LEN(oid_a_child));
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	t = mk(prefix_sa, LEN(prefix_sa)); /* the prefix itself lies "under" it */
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	t = mk(oid_other, LEN(oid_other));
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
	t = mk(prefix_sa, LEN(prefix_sa) - 1); /* shorter than the prefix */
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
	ck_assert_int_eq(h.n, 3);
	sa_trap_unsubscribe(hd);
}
END_TEST

START_TEST(multiple_callbacks)
{
	struct hits h1 = {0}, h2 = {0}, h3 = {0};
	int a = sa_trap_subscribe(oid_a, LEN(oid_a), 0, count_cb, &h1);
	int b = sa_trap_subscribe(prefix_sa, LEN(prefix_sa), 1, count_cb, &h2);
	int c = sa_trap_subscribe(oid_b, LEN(oid_b), 0, count_cb, &h3);
	struct cm_trap t = mk(oid_a, LEN(oid_a));

	ck_assert_int_gt(a, 0);
	ck_assert_int_gt(b, a);
	ck_assert_int_gt(c, b);
	ck_assert_int_eq(sa_trap_dispatch(&t), 2);
	ck_assert_int_eq(h1.n, 1);
	ck_assert_int_eq(h2.n, 1);
	ck_assert_int_eq(h3.n, 0);
	t = mk(oid_b, LEN(oid_b));
	ck_assert_int_eq(sa_trap_dispatch(&t), 2);
	ck_assert_int_eq(h1.n, 1);
	ck_assert_int_eq(h2.n, 2);
	ck_assert_int_eq(h3.n, 1);
	sa_trap_unsubscribe(a);
	sa_trap_unsubscribe(b);
	sa_trap_unsubscribe(c);
}
END_TEST

START_TEST(unsubscribe_stops_and_handles_not_reused)
{
	struct hits h1 = {0}, h2 = {0};
	int a = sa_trap_subscribe(oid_a, LEN(oid_a), 0, count_cb, &h1);
	int b = sa_trap_subscribe(oid_a, LEN(oid_a), 0, count_cb, &h2);
	struct cm_trap t = mk(oid_a, LEN(oid_a));
	int c;

	ck_assert_int_eq(sa_trap_dispatch(&t), 2);
	sa_trap_unsubscribe(a);
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	ck_assert_int_eq(h1.n, 1);
	ck_assert_int_eq(h2.n, 2);
	/* Unsubscribing twice or an unknown handle is harmless. */
	sa_trap_unsubscribe(a);
	sa_trap_unsubscribe(999999);
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	c = sa_trap_subscribe(oid_a, LEN(oid_a), 0, count_cb, &h1);
	ck_assert_int_ne(c, a);
	ck_assert_int_gt(c, b);
	/* The stale handle a must not remove the new subscription. */
	sa_trap_unsubscribe(a);
	ck_assert_int_eq(sa_trap_dispatch(&t), 2);
	sa_trap_unsubscribe(b);
	sa_trap_unsubscribe(c);
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
}
END_TEST

struct self_unsub {
	int handle;
	int n;
};

static void unsub_self_cb(const struct cm_trap *t, void *arg)
{
	struct self_unsub *s = arg;

	(void)t;
	s->n++;
	sa_trap_unsubscribe(s->handle);
}

static struct hits late_hits;
static int late_handles[20];

static void subscribe_more_cb(const struct cm_trap *t, void *arg)
{
	(void)t;
	(void)arg;
	/* Enough new entries to force the table to grow mid-dispatch. */
	for (int i = 0; i < 20; i++) {
		late_handles[i] = sa_trap_subscribe(oid_a, LEN(oid_a), 0, count_cb, &late_hits);
		ck_assert_int_gt(late_handles[i], 0);
	}
}

START_TEST(changes_during_dispatch)
{
	struct self_unsub s = {0};
	struct hits h = {0};
	struct cm_trap t = mk(oid_a, LEN(oid_a));
	int more, after;

	s.handle = sa_trap_subscribe(oid_a, LEN(oid_a), 0, unsub_self_cb, &s);
	more = sa_trap_subscribe(oid_a, LEN(oid_a), 0, subscribe_more_cb, NULL);
	after = sa_trap_subscribe(oid_a, LEN(oid_a), 0, count_cb, &h);
	ck_assert_int_eq(sa_trap_dispatch(&t), 3);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(h.n, 1);
	/* New subscriptions begin with the next notification. */
	ck_assert_int_eq(late_hits.n, 0);
	sa_trap_unsubscribe(more);
	ck_assert_int_eq(sa_trap_dispatch(&t), 21);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(late_hits.n, 20);
	sa_trap_unsubscribe(after);
	for (int i = 0; i < 20; i++)
		sa_trap_unsubscribe(late_handles[i]);
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
}
END_TEST

START_TEST(bad_arguments)
{
	static uint32_t huge[129];
	struct cm_trap t = mk(oid_a, LEN(oid_a));

	ck_assert_int_eq(sa_trap_subscribe(oid_a, LEN(oid_a), 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(sa_trap_subscribe(NULL, 3, 0, count_cb, NULL), -EINVAL);
	ck_assert_int_eq(sa_trap_subscribe(oid_a, 0, 0, count_cb, NULL), -EINVAL);
	ck_assert_int_eq(sa_trap_subscribe(huge, LEN(huge), 1, count_cb, NULL), -EINVAL);
	ck_assert_int_eq(sa_trap_dispatch(NULL), -EINVAL);
	ck_assert_int_eq(sa_trap_dispatch(&t), 0);
}
END_TEST

START_TEST(empty_prefix_matches_all)
{
	struct hits h = {0};
	int hd = sa_trap_subscribe(NULL, 0, 1, count_cb, &h);
	struct cm_trap t = mk(oid_other, LEN(oid_other));

	ck_assert_int_gt(hd, 0);
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	t = mk(oid_a, LEN(oid_a));
	ck_assert_int_eq(sa_trap_dispatch(&t), 1);
	ck_assert_int_eq(h.n, 2);
	sa_trap_unsubscribe(hd);
}
END_TEST

static Suite *dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, exact_match_only);
	tcase_add_test(tc, prefix_match);
	tcase_add_test(tc, multiple_callbacks);
	tcase_add_test(tc, unsubscribe_stops_and_handles_not_reused);
	tcase_add_test(tc, changes_during_dispatch);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, empty_prefix_matches_all);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dispatch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
