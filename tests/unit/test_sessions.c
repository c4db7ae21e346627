/* test_sessions.c: the session registry: sliding-window math on synthetic samples, ids, events, logout. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "engines/sessions.h"

#define KIB 1024u

static uint32_t add_session(int state)
{
	struct sess_info in;
	uint32_t id;

	memset(&in, 0, sizeof(in));
	strcpy(in.initiator, "iqn.2026-11.test:init");
	strcpy(in.target, "iqn.2026-11.test:disk0");
	strcpy(in.portal_addr, "127.0.0.1");
	in.portal_port = 3260;
	in.type = SESS_TYPE_NORMAL;
	in.owner = SESS_OWNER_DATAPATH;
	in.state = state;
	id = sess_add(&in, NULL, NULL);
	ck_assert_uint_ne(id, 0);
	return id;
}

/* Sets tx bytes (and optionally other counters) and takes a sample at t. */
static void sample(uint32_t id, uint64_t t_ms, uint64_t tx, uint64_t cmds, uint32_t errors)
{
	struct sess_counters c = sess_find(id)->c;

	c.tx_bytes = tx;
	c.cmds = cmds;
	c.errors = errors;
	ck_assert_int_eq(sess_set_counters(id, &c), 0);
	sess_tick(t_ms);
}

static const struct sess_metrics *metrics(uint32_t id)
{
	return &sess_find(id)->m;
}

START_TEST(window_rates)
{
	/* KiB moved in each 1 s interval. */
	static const unsigned int per_s[] = {100, 200, 50, 0, 150};
	uint32_t id;
	uint64_t tx = 0, t = 10000;
	const struct sess_metrics *m;

	ck_assert_int_eq(sess_set_window(5), 0);
	id = add_session(SESS_LOGGED_IN);
	sample(id, t, tx, 0, 0);
	m = metrics(id);
	/* One sample has no interval: nothing to report yet. */
	ck_assert_uint_eq(m->tx_rate, 0);
	ck_assert_uint_eq(m->tx_rate_max, 0);
	for (size_t i = 0; i < 5; i++) {
		tx += (uint64_t)per_s[i] * KIB;
		t += 1000;
		sample(id, t, tx, 0, 0);
	}
	m = metrics(id);
	ck_assert_uint_eq(m->tx_rate, 150);
	ck_assert_uint_eq(m->tx_rate_max, 200);
	ck_assert_uint_eq(m->tx_rate_min, 0);
	ck_assert_uint_eq(m->tx_rate_avg, 100); /* 500 KiB over 5 s */

	/* A sixth interval pushes the first (100 KiB/s) out of the window. */
	tx += 300 * KIB;
	t += 1000;
	sample(id, t, tx, 0, 0);
	m = metrics(id);
	ck_assert_uint_eq(m->tx_rate, 300);
	ck_assert_uint_eq(m->tx_rate_max, 300);
	ck_assert_uint_eq(m->tx_rate_min, 0);
	ck_assert_uint_eq(m->tx_rate_avg, 140); /* 200+50+0+150+300 over 5 s */

	/* Five steady intervals: the old max and min have left the window. */
	for (int i = 0; i < 5; i++) {
		tx += 10 * KIB;
		t += 1000;
		sample(id, t, tx, 0, 0);
	}
	m = metrics(id);
	ck_assert_uint_eq(m->tx_rate, 10);
	ck_assert_uint_eq(m->tx_rate_max, 10);
	ck_assert_uint_eq(m->tx_rate_min, 10);
	ck_assert_uint_eq(m->tx_rate_avg, 10);
	ck_assert(m->tx_rate_max >= m->tx_rate_avg && m->tx_rate_avg >= m->tx_rate_min);
}
END_TEST

START_TEST(uneven_intervals)
{
	uint32_t id = add_session(SESS_LOGGED_IN);
	const struct sess_metrics *m;

	/* A late timer: 2048 KiB over 2 s is 1024 KiB/s, not 2048. */
	sample(id, 1000, 0, 0, 0);
	sample(id, 3000, 2048 * KIB, 0, 0);
	m = metrics(id);
	ck_assert_uint_eq(m->tx_rate, 1024);
	ck_assert_uint_eq(m->tx_rate_avg, 1024);
	/* A tick that does not move forward in time adds no sample. */
	sample(id, 3000, 4096 * KIB, 0, 0);
	ck_assert_uint_eq(metrics(id)->tx_rate, 1024);
	sample(id, 2500, 4096 * KIB, 0, 0);
	ck_assert_uint_eq(metrics(id)->tx_rate, 1024);
	sample(id, 4000, 4096 * KIB, 0, 0);
	ck_assert_uint_eq(metrics(id)->tx_rate, 2048);
}
END_TEST

START_TEST(error_rate)
{
	uint32_t id = add_session(SESS_LOGGED_IN);
	uint64_t t = 0;

	ck_assert_uint_eq(sess_window(), 60); /* the default */
	/* Two errors in a full 60 s window: 120 per hour. */
	for (int i = 0; i <= 60; i++, t += 1000)
		sample(id, t, 0, 0, i >= 30 ? (i >= 45 ? 2 : 1) : 0);
	ck_assert_uint_eq(metrics(id)->error_rate, 120);
	/* 30 error-free seconds later the first error has left the window. */
	for (int i = 0; i < 31; i++, t += 1000)
		sample(id, t, 0, 0, 2);
	ck_assert_uint_eq(metrics(id)->error_rate, 60);
	for (int i = 0; i < 60; i++, t += 1000)
		sample(id, t, 0, 0, 2);
	ck_assert_uint_eq(metrics(id)->error_rate, 0);
}
END_TEST

/* The failure that ended a path's previous session is counted as the path leaves service, when that session's
 * row goes: the next session carries it (errors_at_login) and its rate shows it while its first sample is in the
 * window. */
START_TEST(errors_at_login)
{
	uint32_t id = add_session(SESS_LOGGED_IN), old = add_session(SESS_LOGGED_IN);
	struct sess_counters c = {.errors = 1, .errors_at_login = 1};
	uint64_t t = 0;

	ck_assert_int_eq(sess_set_counters(id, &c), 0);
	/* A session that starts with errors that are not recent (a data plane's before this agent saw it). */
	c = (struct sess_counters){.errors = 5};
	ck_assert_int_eq(sess_set_counters(old, &c), 0);
	sess_tick(t);
	t += 1000;
	sess_tick(t);
	ck_assert_uint_eq(metrics(id)->error_rate, 3600);
	ck_assert_uint_eq(metrics(old)->error_rate, 0);
	/* Its rate is over the window as any error's: one error in 60 s is 60 per hour. */
	for (int i = 2; i <= 60; i++, t += 1000)
		sample(id, t + 1000, 0, 0, 1);
	ck_assert_uint_eq(metrics(id)->error_rate, 60);
	/* Then the first sample leaves the window, and the error with it. */
	sample(id, t + 1000, 0, 0, 1);
	ck_assert_uint_eq(metrics(id)->error_rate, 0);
	/* An error of the session itself counts as before. */
	t += 1000;
	sample(id, t + 1000, 0, 0, 2);
	ck_assert_uint_eq(metrics(id)->error_rate, 60);
}
END_TEST

/* Counters that go back start the window again, and what the session was born with is no longer in it. */
START_TEST(errors_at_login_reset)
{
	uint32_t id = add_session(SESS_LOGGED_IN);
	struct sess_counters c = {.tx_bytes = 100, .errors = 2, .errors_at_login = 1};

	ck_assert_int_eq(sess_set_counters(id, &c), 0);
	sess_tick(0);
	sess_tick(1000);
	ck_assert_uint_eq(metrics(id)->error_rate, 3600);
	c.tx_bytes = 0;
	ck_assert_int_eq(sess_set_counters(id, &c), 0);
	sess_tick(2000);
	sess_tick(3000);
	ck_assert_uint_eq(metrics(id)->error_rate, 0);
}
END_TEST

START_TEST(latency)
{
	uint32_t id = add_session(SESS_LOGGED_IN);
	struct sess_counters c = {0};
	const struct sess_metrics *m;

	sess_set_counters(id, &c);
	sess_tick(1000);
	/* 100 commands at 100 us (max 400), then 300 at 200 us (max 900). */
	c.cmds = 100;
	c.avg_latency_us = 100;
	c.max_latency_us = 400;
	sess_set_counters(id, &c);
	sess_tick(2000);
	c.cmds = 400;
	c.avg_latency_us = 200;
	c.max_latency_us = 900;
	sess_set_counters(id, &c);
	sess_tick(3000);
	/* An idle interval's report is stale and does not count. */
	c.avg_latency_us = 99999;
	c.max_latency_us = 99999;
	sess_set_counters(id, &c);
	sess_tick(4000);
	m = metrics(id);
	ck_assert_uint_eq(m->latency_avg, 175); /* (100*100 + 300*200) / 400 */
	ck_assert_uint_eq(m->latency_max, 900);
	/* An owner that reports no max: the interval's average stands in. */
	c.cmds = 500;
	c.avg_latency_us = 1500;
	c.max_latency_us = 0;
	sess_set_counters(id, &c);
	sess_tick(5000);
	ck_assert_uint_eq(metrics(id)->latency_max, 1500);
}
END_TEST

START_TEST(counter_reset)
{
	uint32_t id = add_session(SESS_LOGGED_IN);

	sample(id, 1000, 100 * KIB, 10, 0);
	sample(id, 2000, 200 * KIB, 20, 0);
	ck_assert_uint_eq(metrics(id)->tx_rate, 100);
	/* The owner started over: no negative (huge) rate across the reset. */
	sample(id, 3000, 5 * KIB, 1, 0);
	ck_assert_uint_eq(metrics(id)->tx_rate_max, 0);
	sample(id, 4000, 25 * KIB, 2, 0);
	ck_assert_uint_eq(metrics(id)->tx_rate, 20);
	ck_assert_uint_eq(metrics(id)->tx_rate_max, 20);
}
END_TEST

START_TEST(window_change)
{
	uint32_t id = add_session(SESS_LOGGED_IN);
	uint64_t tx = 0;

	ck_assert_int_eq(sess_set_window(4), -EINVAL);
	ck_assert_int_eq(sess_set_window(3601), -EINVAL);
	ck_assert_uint_eq(sess_window(), 60);
	/* Rates 1..10 KiB/s over ten intervals in a 60 s window. */
	sample(id, 0, 0, 0, 0);
	for (unsigned int i = 1; i <= 10; i++) {
		tx += i * KIB;
		sample(id, i * 1000, tx, 0, 0);
	}
	ck_assert_uint_eq(metrics(id)->tx_rate_min, 1);
	/* Shrunk to 5 s, the ring keeps its newest samples: rates 6..10. */
	ck_assert_int_eq(sess_set_window(5), 0);
	tx += 11 * KIB;
	sample(id, 11000, tx, 0, 0);
	ck_assert_uint_eq(metrics(id)->tx_rate_min, 7);
	ck_assert_uint_eq(metrics(id)->tx_rate_max, 11);
	ck_assert_uint_eq(metrics(id)->tx_rate_avg, 9);
}
END_TEST

START_TEST(ids_not_reused)
{
	uint32_t a = add_session(SESS_LOGGED_IN), b = add_session(SESS_LOGGED_IN), c = add_session(SESS_LOGGED_IN);
	uint32_t d, prev;
	const struct sess_view *v;
	size_t n;

	ck_assert_uint_lt(a, b);
	ck_assert_uint_lt(b, c);
	ck_assert_int_eq(sess_remove(b), 0);
	ck_assert_int_eq(sess_remove(c), 0);
	ck_assert_int_eq(sess_remove(c), -ENOENT);
	ck_assert_ptr_null(sess_find(c));
	d = add_session(SESS_LOGGED_IN);
	ck_assert_uint_gt(d, c);
	ck_assert_uint_eq(sess_next(a)->id, d);
	ck_assert_ptr_null(sess_next(d));
	ck_assert_ptr_null(sess_next(UINT32_MAX));

	/* Many rows with holes: the walk is sorted and skips removed ids. */
	for (int i = 0; i < 2000; i++)
		add_session(i % 3 ? SESS_LOGGED_IN : SESS_LOGGING_IN);
	for (uint32_t id = d + 1; id <= d + 2000; id += 2)
		ck_assert_int_eq(sess_remove(id), 0);
	n = 0;
	prev = 0;
	for (v = sess_next(0); v; v = sess_next(v->id)) {
		ck_assert_uint_gt(v->id, prev);
		ck_assert_ptr_eq(sess_find(v->id), v);
		prev = v->id;
		n++;
	}
	ck_assert_uint_eq(n, 2 + 1000);
	ck_assert_uint_eq(sess_count(), n);
	ck_assert_ptr_null(sess_find(d + 1));
	ck_assert_uint_eq(sess_next(d)->id, d + 2);
	ck_assert_uint_eq(add_session(SESS_LOGGED_IN), d + 2001);
}
END_TEST

static struct {
	int type[16];
	uint32_t id[16];
	int state[16];
	int found[16];
	int n;
} evs;

static void listener(int topic, const void *data, void *arg)
{
	const struct sess_event *ev = data;

	(void)topic;
	ck_assert_ptr_eq(arg, &evs);
	ck_assert_int_lt(evs.n, 16);
	evs.type[evs.n] = ev->type;
	evs.id[evs.n] = ev->id;
	evs.state[evs.n] = ev->s->info.state;
	evs.found[evs.n] = sess_find(ev->id) == ev->s;
	evs.n++;
}

START_TEST(events)
{
	struct sess_info in;
	uint32_t a, b;
	int h = bus_subscribe(BUS_SESSIONS, listener, &evs);

	ck_assert_int_gt(h, 0);
	a = add_session(SESS_LOGGING_IN);
	ck_assert_int_eq(evs.n, 0);
	in = sess_find(a)->info;
	in.state = SESS_LOGGED_IN;
	in.login_time = 1700000000;
	ck_assert_int_eq(sess_set_info(a, &in), 0);
	ck_assert_int_eq(sess_set_info(a, &in), 0); /* no change, no event */
	in.state = SESS_FAILED;
	ck_assert_int_eq(sess_set_info(a, &in), 0);
	in.state = SESS_LOGGED_IN;
	ck_assert_int_eq(sess_set_info(a, &in), 0);
	b = add_session(SESS_LOGGED_IN);
	ck_assert_int_eq(sess_remove(a), 0);
	/* A session that never logged in goes quietly. */
	ck_assert_int_eq(sess_remove(add_session(SESS_LOGGING_IN)), 0);
	ck_assert_int_eq(sess_set_info(a, &in), -ENOENT);

	ck_assert_int_eq(evs.n, 5);
	ck_assert_int_eq(evs.type[0], SESS_EV_UP);
	ck_assert_uint_eq(evs.id[0], a);
	ck_assert_int_eq(evs.type[1], SESS_EV_DOWN);
	ck_assert_int_eq(evs.state[1], SESS_FAILED); /* the new state is in the row already */
	ck_assert_int_eq(evs.type[2], SESS_EV_UP);
	ck_assert_int_eq(evs.type[3], SESS_EV_UP);
	ck_assert_uint_eq(evs.id[3], b);
	ck_assert_int_eq(evs.type[4], SESS_EV_DOWN);
	ck_assert_uint_eq(evs.id[4], a);
	ck_assert_int_eq(evs.state[4], SESS_LOGGED_IN); /* its last values */
	for (int i = 0; i < evs.n; i++)
		ck_assert_int_eq(evs.found[i], 1);
	ck_assert_int_eq(bus_unsubscribe(h), 0);
	sess_remove(b);
	ck_assert_int_eq(evs.n, 5);
}
END_TEST

static uint32_t logged_out;

static int do_logout(uint32_t id, void *arg)
{
	ck_assert_ptr_eq(arg, &logged_out);
	logged_out = id;
	return id % 2 ? 0 : -ENODEV;
}

START_TEST(logout)
{
	struct sess_info in;
	uint32_t plain = add_session(SESS_LOGGED_IN), a, b;

	memset(&in, 0, sizeof(in));
	in.state = SESS_LOGGED_IN;
	a = sess_add(&in, do_logout, &logged_out);
	b = sess_add(&in, do_logout, &logged_out);
	ck_assert_int_eq(sess_find(plain)->can_logout, 0);
	ck_assert_int_eq(sess_find(a)->can_logout, 1);
	ck_assert_int_eq(sess_logout(plain), -EOPNOTSUPP);
	ck_assert_int_eq(sess_logout(12345), -ENOENT);
	ck_assert_int_eq(sess_logout(a), a % 2 ? 0 : -ENODEV);
	ck_assert_uint_eq(logged_out, a);
	ck_assert_int_eq(sess_logout(b), b % 2 ? 0 : -ENODEV);
	ck_assert_uint_eq(logged_out, b);
}
END_TEST

START_TEST(strings_terminated)
{
	struct sess_info in;
	uint32_t id;

	memset(&in, 'x', sizeof(in));
	in.state = SESS_LOGGING_IN;
	id = sess_add(&in, NULL, NULL);
	ck_assert_uint_eq(strlen(sess_find(id)->info.target), SESS_NAME_MAX - 1);
	ck_assert_uint_eq(strlen(sess_find(id)->info.src_addr), SESS_ADDR_MAX - 1);
}
END_TEST

/* Initiator nodes: one stable index per initiator name, its sessions in id order, its login and logout counts. */
static uint32_t add_as(const char *initiator, int state)
{
	struct sess_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.initiator, sizeof(in.initiator), "%s", initiator);
	strcpy(in.target, "iqn.2026-11.test:disk9");
	strcpy(in.portal_addr, "192.0.2.7");
	in.portal_port = 3261;
	in.type = SESS_TYPE_NORMAL;
	in.owner = SESS_OWNER_DATAPATH;
	in.state = state;
	return sess_add(&in, NULL, NULL);
}

static void set_state(uint32_t id, int state)
{
	struct sess_info in = sess_find(id)->info;

	in.state = state;
	ck_assert_int_eq(sess_set_info(id, &in), 0);
}

START_TEST(initiator_nodes)
{
	uint32_t a1 = add_as("iqn.2026-11.test:node-a", SESS_LOGGING_IN);
	uint32_t b1 = add_as("iqn.2026-11.test:node-b", SESS_LOGGED_IN);
	uint32_t a2 = add_as("iqn.2026-11.test:node-a", SESS_LOGGING_IN);
	uint32_t na = sess_find(a1)->node, nb = sess_find(b1)->node;
	const struct sess_node_view *a, *n;
	uint32_t fails0;

	ck_assert_uint_ne(na, 0);
	ck_assert_uint_ne(nb, 0);
	ck_assert_uint_ne(na, nb);
	ck_assert_uint_eq(sess_find(a2)->node, na);
	a = sess_node_find(na);
	ck_assert_str_eq(a->name, "iqn.2026-11.test:node-a");
	ck_assert_uint_eq(a->nsessions, 2);
	/* The node's sessions in id order, then none; nodes in index order. */
	ck_assert_uint_eq(sess_node_session_next(na, 0)->id, a1);
	ck_assert_uint_eq(sess_node_session_next(na, a1)->id, a2);
	ck_assert_ptr_null(sess_node_session_next(na, a2));
	ck_assert_ptr_null(sess_node_session_next(na, UINT32_MAX));
	n = sess_node_next(na);
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->index, nb);
	ck_assert_uint_eq(sess_node_find(nb)->st.accepts, 1);

	/* a1 logs in and out; a2 fails to log in; b1 fails after login. */
	fails0 = sess_fail_totals()->session_failures;
	set_state(a1, SESS_LOGGED_IN);
	set_state(a1, SESS_LOGGED_OUT);
	set_state(a2, SESS_FAILED);
	set_state(a2, SESS_FAILED); /* no change, no count */
	set_state(b1, SESS_FAILED);
	a = sess_node_find(na);
	ck_assert_uint_eq(a->st.accepts, 1);
	ck_assert_uint_eq(a->st.logout_normals, 1);
	ck_assert_uint_eq(a->st.login_failures, 1);
	ck_assert_str_eq(a->st.last_target, "iqn.2026-11.test:disk9");
	ck_assert_str_eq(a->st.last_addr, "192.0.2.7");
	ck_assert_uint_eq(a->st.last_port, 3261);
	ck_assert(a->st.last_failure != 0);
	ck_assert_uint_eq(sess_node_find(nb)->st.session_failures, 1);
	ck_assert_uint_eq(sess_fail_totals()->session_failures, fails0 + 1);
	ck_assert_str_eq(sess_fail_totals()->last_remote, "iqn.2026-11.test:disk9");

	/* Removal while logged in is a logout; the node stays with its counts, without sessions. */
	set_state(a2, SESS_LOGGED_IN);
	ck_assert_int_eq(sess_remove(a2), 0);
	ck_assert_int_eq(sess_remove(a1), 0);
	a = sess_node_find(na);
	ck_assert_uint_eq(a->st.logout_normals, 2);
	ck_assert_uint_eq(a->nsessions, 0);
	ck_assert_ptr_null(sess_node_session_next(na, 0));
	/* The name comes back under the same index. */
	a1 = add_as("iqn.2026-11.test:node-a", SESS_LOGGED_IN);
	ck_assert_uint_eq(sess_find(a1)->node, na);
	ck_assert_uint_eq(sess_node_find(na)->st.accepts, 3);
}
END_TEST

START_TEST(initiator_portals)
{
	uint32_t a = add_as("iqn.2026-11.test:node-p", SESS_LOGGED_IN);
	uint32_t b = add_as("iqn.2026-11.test:node-p", SESS_LOGGED_IN);
	struct sess_info in = sess_find(a)->info;
	uint32_t pa, pb;

	ck_assert_uint_eq(sess_find(a)->portal, 0); /* no source address: no portal */
	strcpy(in.src_addr, "192.0.2.40");
	ck_assert_int_eq(sess_set_info(a, &in), 0);
	in = sess_find(b)->info;
	strcpy(in.src_addr, "192.0.2.40");
	ck_assert_int_eq(sess_set_info(b, &in), 0);
	pa = sess_find(a)->portal;
	ck_assert_uint_ne(pa, 0);
	ck_assert_uint_eq(sess_find(b)->portal, pa);
	ck_assert_str_eq(sess_portal_find(pa)->addr, "192.0.2.40");
	ck_assert_uint_eq(sess_portal_find(pa)->nsessions, 2);
	/* b moves to another source: a second portal, the first keeps a. */
	strcpy(in.src_addr, "192.0.2.41");
	ck_assert_int_eq(sess_set_info(b, &in), 0);
	pb = sess_find(b)->portal;
	ck_assert_uint_gt(pb, pa);
	ck_assert_uint_eq(sess_portal_find(pa)->nsessions, 1);
	ck_assert_uint_eq(sess_portal_next(pa)->index, pb);
	ck_assert_int_eq(sess_remove(a), 0);
	ck_assert_uint_eq(sess_portal_find(pa)->nsessions, 0); /* kept, with its index */
	ck_assert_ptr_null(sess_portal_next(pb));
}
END_TEST

/* Failed logins reported by a login manager (no session row): counted by the target's status. */
START_TEST(reported_login_failures)
{
	const char *name = "iqn.2026-11.test:node-f";
	const struct sess_node_view *n;
	const struct sess_node_view *it;

	sess_login_failed(name, "iqn.2026-11.test:t1", "192.0.2.9", 3260, 0x0201);
	sess_login_failed(name, "iqn.2026-11.test:t2", "192.0.2.9", 3260, 0x0202);
	sess_login_failed(name, "iqn.2026-11.test:t3", "192.0.2.9", 3260, 0x0101);
	sess_login_failed(name, "iqn.2026-11.test:t4", "", 3261, 0x0203);
	sess_login_failed(name, "iqn.2026-11.test:t5", "198.51.100.1", 3262, 0);
	sess_login_failed("", "iqn.2026-11.test:t6", "", 3260, 0x0201); /* no name: no node */
	n = NULL;
	for (it = sess_node_next(0); it; it = sess_node_next(it->index))
		if (strcmp(it->name, name) == 0)
			n = it;
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->st.login_failures, 5);
	ck_assert_uint_eq(n->st.auth_fails, 1);
	ck_assert_uint_eq(n->st.authorize_fails, 1);
	ck_assert_uint_eq(n->st.redirects, 1);
	ck_assert_uint_eq(n->st.last_status, 0);
	ck_assert_str_eq(n->st.last_target, "iqn.2026-11.test:t5");
	ck_assert_str_eq(n->st.last_addr, "198.51.100.1");
	ck_assert_uint_eq(n->st.last_port, 3262);
	ck_assert_uint_eq(n->nsessions, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sessions");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, window_rates);
	tcase_add_test(tc, uneven_intervals);
	tcase_add_test(tc, error_rate);
	tcase_add_test(tc, errors_at_login);
	tcase_add_test(tc, errors_at_login_reset);
	tcase_add_test(tc, latency);
	tcase_add_test(tc, counter_reset);
	tcase_add_test(tc, window_change);
	tcase_add_test(tc, ids_not_reused);
	tcase_add_test(tc, events);
	tcase_add_test(tc, logout);
	tcase_add_test(tc, strings_terminated);
	tcase_add_test(tc, initiator_nodes);
	tcase_add_test(tc, initiator_portals);
	tcase_add_test(tc, reported_login_failures);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
