/* test_bus.c: unit tests for the event bus (common/bus.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "common/bus.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

struct rec {
	int n;
	int topic;
	const void *last;
};

static void count_cb(int topic, const void *ev, void *arg)
{
	struct rec *r = arg;

	r->n++;
	r->topic = topic;
	r->last = ev;
}

START_TEST(topics_are_separate)
{
	struct rec a = {0}, b = {0};
	int ev = 42;
	int ha = bus_subscribe(BUS_BALANCE, count_cb, &a);
	int hb = bus_subscribe(BUS_STORAGE, count_cb, &b);

	ck_assert_int_gt(ha, 0);
	ck_assert_int_gt(hb, ha);
	ck_assert_int_eq(bus_publish(BUS_BALANCE, &ev), 1);
	ck_assert_int_eq(a.n, 1);
	ck_assert_int_eq(a.topic, BUS_BALANCE);
	ck_assert_ptr_eq(a.last, &ev);
	ck_assert_int_eq(b.n, 0);
	ck_assert_int_eq(bus_publish(BUS_SESSIONS, &ev), 0);
	ck_assert_int_eq(bus_unsubscribe(ha), 0);
	ck_assert_int_eq(bus_unsubscribe(hb), 0);
	ck_assert_int_eq(bus_publish(BUS_BALANCE, &ev), 0);
	ck_assert_uint_eq(bus_count(BUS_BALANCE), 0);
}
END_TEST

/* The old listener lists held 1, 4 or 8 entries and dropped the rest. */
START_TEST(no_fixed_cap)
{
	enum { N = 1000 };
	static int handles[N];
	struct rec r = {0};

	for (int i = 0; i < N; i++) {
		handles[i] = bus_subscribe(BUS_DISCOVERY, count_cb, &r);
		ck_assert_int_gt(handles[i], 0);
	}
	ck_assert_uint_eq(bus_count(BUS_DISCOVERY), N);
	ck_assert_int_eq(bus_publish(BUS_DISCOVERY, NULL), N);
	ck_assert_int_eq(r.n, N);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(bus_unsubscribe(handles[i]), 0);
	ck_assert_uint_eq(bus_count(BUS_DISCOVERY), 0);
}
END_TEST

START_TEST(failures_reported)
{
	static const uint32_t k[] = {1, 3};
	struct rec r = {0};
	int h;

	ck_assert_int_eq(bus_subscribe(0, count_cb, &r), -EINVAL);
	ck_assert_int_eq(bus_subscribe(BUS_TOPIC_COUNT, count_cb, &r), -EINVAL);
	ck_assert_int_eq(bus_subscribe(BUS_BALANCE, NULL, &r), -EINVAL);
	ck_assert_int_eq(bus_subscribe_key(BUS_TRAP, NULL, 2, 0, count_cb, &r), -EINVAL);
	/* An empty exact key could never match anything. */
	ck_assert_int_eq(bus_subscribe_key(BUS_TRAP, k, 0, 0, count_cb, &r), -EINVAL);
	ck_assert_int_eq(bus_publish(0, NULL), -EINVAL);
	ck_assert_int_eq(bus_publish_key(BUS_TRAP, NULL, 3, NULL), -EINVAL);
	ck_assert_int_eq(bus_unsubscribe(999999), -ENOENT);
	h = bus_subscribe(BUS_BALANCE, count_cb, &r);
	ck_assert_int_eq(bus_unsubscribe(h), 0);
	/* Twice: the second is reported, and a stale handle removes nobody else. */
	ck_assert_int_eq(bus_unsubscribe(h), -ENOENT);
	ck_assert_int_ne(bus_subscribe(BUS_BALANCE, count_cb, &r), h);
}
END_TEST

START_TEST(keys_exact_and_prefix)
{
	static const uint32_t a[] = {1, 3, 6, 1, 4, 1, 32473, 1, 0, 1};
	static const uint32_t a_child[] = {1, 3, 6, 1, 4, 1, 32473, 1, 0, 1, 7};
	static const uint32_t b[] = {1, 3, 6, 1, 4, 1, 32473, 1, 0, 2};
	static const uint32_t pfx[] = {1, 3, 6, 1, 4, 1, 32473};
	static const uint32_t other[] = {1, 3, 6, 1, 6, 3, 1, 1, 5, 1};
	struct rec ex = {0}, pf = {0}, all = {0}, any = {0};
	int h1 = bus_subscribe_key(BUS_TRAP, a, LEN(a), 0, count_cb, &ex);
	int h2 = bus_subscribe_key(BUS_TRAP, pfx, LEN(pfx), 1, count_cb, &pf);
	int h3 = bus_subscribe_key(BUS_TRAP, NULL, 0, 1, count_cb, &all);
	int h4 = bus_subscribe(BUS_TRAP, count_cb, &any);

	ck_assert_int_eq(bus_publish_key(BUS_TRAP, a, LEN(a), NULL), 4);
	ck_assert_int_eq(bus_publish_key(BUS_TRAP, a_child, LEN(a_child), NULL), 3);
	ck_assert_int_eq(bus_publish_key(BUS_TRAP, b, LEN(b), NULL), 3);
	ck_assert_int_eq(bus_publish_key(BUS_TRAP, other, LEN(other), NULL), 2);
	/* A key shorter than the prefix does not match it. */
	ck_assert_int_eq(bus_publish_key(BUS_TRAP, pfx, 3, NULL), 2);
	ck_assert_int_eq(ex.n, 1);
	ck_assert_int_eq(pf.n, 3);
	ck_assert_int_eq(all.n, 5);
	ck_assert_int_eq(any.n, 5);
	/* The key was copied at subscribe time. */
	{
		uint32_t tmp[LEN(a)];

		for (size_t i = 0; i < LEN(a); i++)
			tmp[i] = a[i];
		int h5 = bus_subscribe_key(BUS_TRAP, tmp, LEN(tmp), 0, count_cb, &ex);
		tmp[0] = 99;
		ck_assert_int_eq(bus_publish_key(BUS_TRAP, a, LEN(a), NULL), 5);
		bus_unsubscribe(h5);
	}
	bus_unsubscribe(h1);
	bus_unsubscribe(h2);
	bus_unsubscribe(h3);
	bus_unsubscribe(h4);
	ck_assert_uint_eq(bus_count(BUS_TRAP), 0);
}
END_TEST

/* ---- changes from inside callbacks ------------------------------------------ */

struct self {
	int handle;
	int n;
};

static void unsub_self_cb(int topic, const void *ev, void *arg)
{
	struct self *s = arg;

	(void)topic;
	(void)ev;
	s->n++;
	ck_assert_int_eq(bus_unsubscribe(s->handle), 0);
}

static struct self victim;
static void unsub_other_cb(int topic, const void *ev, void *arg)
{
	(void)topic;
	(void)ev;
	(void)arg;
	if (victim.handle > 0) {
		ck_assert_int_eq(bus_unsubscribe(victim.handle), 0);
		victim.handle = 0;
	}
}

static void count_victim(int topic, const void *ev, void *arg)
{
	(void)topic;
	(void)ev;
	((struct self *)arg)->n++;
}

static struct rec late;
static int late_handles[64];
static void subscribe_many_cb(int topic, const void *ev, void *arg)
{
	(void)topic;
	(void)ev;
	(void)arg;
	/* Enough to force the array to grow (and move) during the publish. */
	for (size_t i = 0; i < LEN(late_handles); i++)
		if (!late_handles[i])
			ck_assert_int_gt(late_handles[i] = bus_subscribe(BUS_LOGIN, count_cb, &late), 0);
}

static struct rec nested;
static void publish_other_cb(int topic, const void *ev, void *arg)
{
	(void)topic;
	(void)arg;
	ck_assert_int_eq(bus_publish(BUS_SESSIONS, ev), 1);
}

START_TEST(unsubscribe_self_in_callback)
{
	struct self s = {0};
	struct rec after = {0};

	s.handle = bus_subscribe(BUS_LOGIN, unsub_self_cb, &s);
	int h = bus_subscribe(BUS_LOGIN, count_cb, &after);

	ck_assert_int_eq(bus_publish(BUS_LOGIN, NULL), 2);
	ck_assert_int_eq(bus_publish(BUS_LOGIN, NULL), 1);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(after.n, 2);
	bus_unsubscribe(h);
	ck_assert_uint_eq(bus_count(BUS_LOGIN), 0);
}
END_TEST

START_TEST(unsubscribe_later_one_in_callback)
{
	struct self v = {0};
	int h = bus_subscribe(BUS_LOGIN, unsub_other_cb, NULL);

	victim.handle = bus_subscribe(BUS_LOGIN, count_victim, &v);
	/* The victim, removed before its turn, is not called by this publish. */
	ck_assert_int_eq(bus_publish(BUS_LOGIN, NULL), 1);
	ck_assert_int_eq(v.n, 0);
	bus_unsubscribe(h);
}
END_TEST

START_TEST(subscribe_in_callback_starts_next_event)
{
	int h = bus_subscribe(BUS_LOGIN, subscribe_many_cb, NULL);

	ck_assert_int_eq(bus_publish(BUS_LOGIN, NULL), 1);
	ck_assert_int_eq(late.n, 0);
	ck_assert_int_eq(bus_publish(BUS_LOGIN, NULL), 1 + (int)LEN(late_handles));
	ck_assert_int_eq(late.n, (int)LEN(late_handles));
	bus_unsubscribe(h);
	for (size_t i = 0; i < LEN(late_handles); i++)
		ck_assert_int_eq(bus_unsubscribe(late_handles[i]), 0);
}
END_TEST

START_TEST(publish_from_callback)
{
	int payload = 7;
	int h1 = bus_subscribe(BUS_STORAGE, publish_other_cb, NULL);
	int h2 = bus_subscribe(BUS_SESSIONS, count_cb, &nested);

	ck_assert_int_eq(bus_publish(BUS_STORAGE, &payload), 1);
	ck_assert_int_eq(nested.n, 1);
	ck_assert_int_eq(nested.topic, BUS_SESSIONS);
	ck_assert_ptr_eq(nested.last, &payload);
	bus_unsubscribe(h1);
	bus_unsubscribe(h2);
}
END_TEST

static Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, topics_are_separate);
	tcase_add_test(tc, no_fixed_cap);
	tcase_add_test(tc, failures_reported);
	tcase_add_test(tc, keys_exact_and_prefix);
	tcase_add_test(tc, unsubscribe_self_in_callback);
	tcase_add_test(tc, unsubscribe_later_one_in_callback);
	tcase_add_test(tc, subscribe_in_callback_starts_next_event);
	tcase_add_test(tc, publish_from_callback);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bus_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
