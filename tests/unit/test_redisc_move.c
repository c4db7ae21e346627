/* test_redisc_move.c: act mode's state machine with a scripted storage agent and iSNS (injected ops): the move
 * step by step, every failure path undone in reverse, and a restart in the middle of a move. */
#define _GNU_SOURCE /* nftw */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/evloop.h"
#include "common/state.h"
#include "engines/registry.h"
#include "engines/rediscover/rediscover.h"
#include "tests/unit/tmpdir.h"

/* ---- an event loop whose timers the test fires ----------------------------------------------------------- */

#define NTIMERS 64
static struct {
	cm_timer_cb cb;
	void *arg;
	int repeat;
} ut_timers[NTIMERS];

#define EVLOOP_STUB_NO_TIMERS
#include "tests/unit/evloop_stub.h"

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	(void)ms;
	for (unsigned int i = 1; i < NTIMERS; i++)
		if (!ut_timers[i].cb) {
			ut_timers[i].cb = cb;
			ut_timers[i].arg = arg;
			ut_timers[i].repeat = repeat;
			return i;
		}
	return 0;
}
void cm_ev_cancel(unsigned int id)
{
	if (id && id < NTIMERS)
		ut_timers[id].cb = NULL;
}
/* Fires every one-shot timer due (the test's time is whatever the step needs): a deadline, a poll, the recovery. */
static void fire_oneshots(void)
{
	for (unsigned int i = 1; i < NTIMERS; i++)
		if (ut_timers[i].cb && !ut_timers[i].repeat) {
			cm_timer_cb cb = ut_timers[i].cb;

			ut_timers[i].cb = NULL;
			cb(i, ut_timers[i].arg);
		}
}

static uint64_t ut_ms = 1000;
static time_t ut_wall = 1700000000;
static uint64_t ut_clock_ms(void)
{
	return ut_ms;
}
static time_t ut_clock_wall(void)
{
	return ut_wall;
}

/* ---- the scripted storage agent and iSNS ------------------------------------------------------------------ */

#define STOR 1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1
#define X "iqn.2026-01.test:x"
#define HOST1 "iqn.2026-01.test:host1"
#define HOST2 "iqn.2026-01.test:host2"

struct pending {
	cm_snmpc_done_cb done;
	void *arg;
	int rc;
	const char *why;
};
static struct pending ut_pend[8];
static int ut_npend;

/* What the fake storage agent holds and how it behaves. */
static struct {
	int unreachable;  /* every request times out */
	int refuse_tgt;   /* the created row vanishes (tgt refused it) */
	int active_after; /* polls before the row reads active */
	int polls;
	uint32_t next_index;
	int row;          /* 0 none, else its RowStatus */
	int row_destroys; /* destroy SETs seen */
	int ends;         /* sessions ended */
	uint32_t row_addr;
	int isns_fail;  /* 1: -EACCES; a negative errno: that one */
	int isns_moved; /* 1 the target is at the new portal in iSNS */
	int isns_calls, isns_undos;
	int end_fail;     /* the session-end SET is refused */
	int destroy_fail; /* the row's destroy gets no answer */
	int creates_with_iface;
} sa;

static void answer(cm_snmpc_done_cb done, void *arg, int rc, const char *why)
{
	ck_assert_int_lt(ut_npend, 8);
	ut_pend[ut_npend++] = (struct pending){done, arg, rc, why};
}

/* Delivers the oldest answer queued (as the loop would, later than the request). */
static void deliver_one(void)
{
	struct pending p = ut_pend[0];

	memmove(ut_pend, ut_pend + 1, (size_t)(ut_npend - 1) * sizeof(*ut_pend));
	ut_npend--;
	p.done(p.rc, p.why, p.arg);
}

static void deliver(void)
{
	while (ut_npend)
		deliver_one();
}

static int fake_walk(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
                     cm_snmpc_done_cb done, void *arg)
{
	static const uint32_t next[] = {STOR, 11}, rows[] = {STOR, 12, 1, 7}, sess[] = {STOR, 15, 1};
	uint32_t o[20];
	struct cm_snmpc_vb v;

	ck_assert_str_eq(p->user, "sanctl");
	if (sa.unreachable) {
		answer(done, arg, -ETIMEDOUT, "no answer");
		return 0;
	}
	memset(&v, 0, sizeof(v));
	if (rootlen == 11 + 1 && memcmp(root, next, sizeof(next)) == 0) {
		memcpy(o, next, sizeof(next));
		o[12] = 0;
		v.oid = o;
		v.oidlen = 13;
		v.type = CM_SNMPC_UNSIGNED;
		v.u = sa.next_index;
		vb(&v, arg);
	} else if (rootlen == 14 && memcmp(root, rows, sizeof(rows)) == 0) {
		sa.polls++;
		if (sa.refuse_tgt)
			sa.row = 0;
		else if (sa.row && sa.polls > sa.active_after)
			sa.row = 1;
		if (sa.row) {
			memcpy(o, rows, sizeof(rows));
			o[14] = sa.next_index;
			v.oid = o;
			v.oidlen = 15;
			v.type = CM_SNMPC_INTEGER;
			v.i = sa.row;
			vb(&v, arg);
		}
	} else if (rootlen == 13 && memcmp(root, sess, sizeof(sess)) == 0) {
		/* Three sessions: Host_1 and Host_2 on X (tid 1), Host_2 on another target (tid 2). */
		static const struct {
			uint32_t tid, sid;
			const char *ini, *tgt;
		} s[] = {{1, 10, HOST1, X}, {1, 11, HOST2, X}, {2, 12, HOST2, "iqn.2026-01.test:y"}};

		for (int col = 2; col <= 5; col += 3)
			for (size_t i = 0; i < 3; i++) {
				memcpy(o, sess, sizeof(sess));
				o[13] = (uint32_t)col;
				o[14] = s[i].tid;
				o[15] = s[i].sid;
				v.oid = o;
				v.oidlen = 16;
				v.type = CM_SNMPC_STRING;
				v.str = col == 2 ? s[i].ini : s[i].tgt;
				v.len = strlen(v.str);
				if (vb(&v, arg))
					break;
			}
	} else {
		ck_abort_msg("unexpected walk");
	}
	answer(done, arg, 0, NULL);
	return 0;
}

static int fake_set(const struct cm_snmpc_peer *p, const struct cm_snmpc_vb *vbs, size_t n, cm_snmpc_done_cb done,
                    void *arg)
{
	ck_assert_str_eq(p->auth_pass, "authpass1");
	if (sa.unreachable) {
		answer(done, arg, -ETIMEDOUT, "no answer");
		return 0;
	}
	if (vbs[0].oid[11] == 12) { /* the portal table */
		if (n == 1) {
			ck_assert_int_eq(vbs[0].oid[13], 7);
			ck_assert_int_eq(vbs[0].i, 6);
			if (sa.destroy_fail) {
				answer(done, arg, -ETIMEDOUT, "no answer");
				return 0;
			}
			sa.row_destroys++;
			sa.row = 0;
		} else {
			/* The pool entry's interface goes with the row (sanStorPortalIfName). */
			sa.creates_with_iface += n == 6;
			if (n == 6) {
				ck_assert_int_eq(vbs[5].oid[13], 8);
				ck_assert_uint_eq(vbs[5].len, 6);
				ck_assert_int_eq(memcmp(vbs[5].str, "veth36", 6), 0);
			} else {
				ck_assert_uint_eq(n, 5); /* a pool entry without an interface */
			}
			ck_assert_uint_eq(vbs[0].oid[14], sa.next_index);
			ck_assert_int_eq(vbs[1].type, CM_SNMPC_STRING);
			ck_assert_uint_eq(vbs[1].len, 4);
			memcpy(&sa.row_addr, vbs[1].str, 4);
			ck_assert_int_eq(vbs[4].i, 4); /* createAndGo */
			sa.row = 2;
		}
	} else {
		ck_assert_int_eq(vbs[0].oid[11], 15); /* the session table's end column */
		if (sa.end_fail) {
			answer(done, arg, -EIO, "commitFailed");
			return 0;
		}
		for (size_t i = 0; i < n; i++) {
			ck_assert_int_eq(vbs[i].oid[13], 11);
			ck_assert_int_eq(vbs[i].oid[14], 1); /* X's sessions only */
			ck_assert_int_eq(vbs[i].i, 2);
		}
		sa.ends += (int)n;
	}
	answer(done, arg, 0, NULL);
	return 0;
}

static int fake_isns(const char *server, const char *source, const char *target, const struct redisc_addr *old,
                     const struct redisc_addr *new_portal, int undo, cm_snmpc_done_cb done, void *arg)
{
	(void)old, (void)new_portal;
	ck_assert_str_eq(server, "127.0.0.1:3205");
	ck_assert_str_eq(source, "iqn.2026-01.test:ns");
	ck_assert_str_eq(target, X);
	if (undo) {
		sa.isns_undos++;
		sa.isns_moved = 0;
	} else {
		sa.isns_calls++;
		if (sa.isns_fail) {
			answer(done, arg, sa.isns_fail < 0 ? sa.isns_fail : -EACCES, "iSNS refused");
			return 0;
		}
		sa.isns_moved = 1;
	}
	answer(done, arg, 0, NULL);
	return 0;
}

static const struct redisc_move_ops fake_ops = {.walk = fake_walk, .set = fake_set, .isns_move = fake_isns};

/* ---- the engine ------------------------------------------------------------------------------------------- */

static char ut_dir[256], ut_state_path[300];
static struct cm_state *ut_state;
static char *su[] = {"storagent"};
static char *pool[] = {"10.1.0.4@veth36"};
static char *portals[] = {"10.1.0.3:3260", "9.3.1.52:3260"};
static struct sa_redisc_storage_agent_cfg agent = {.peer = "udp:127.0.0.1:1161",
                                                   .user = "sanctl",
                                                   .auth_passphrase = "authpass1",
                                                   .priv_passphrase = "privpass1",
                                                   .portals = portals,
                                                   .nportals = 2};

static void state_open(void)
{
	int corrupt = 0;

	ck_assert_int_eq(cm_state_open(ut_state_path, &ut_state, &corrupt), 0);
	sa_engines_set_state(ut_state);
}

static void start(void)
{
	struct sa_rediscover_config c;
	char err[128] = "";

	memset(&c, 0, sizeof(c));
	c.mode = "act";
	c.target_cooldown = 300;
	c.portal_cooldown = 300;
	c.max_moves_per_hour = 6;
	c.imbalance_share = 70;
	c.session_age_out = 120;
	c.history = 100;
	c.agent_port = 162;
	c.storage_users = su;
	c.nstorage_users = 1;
	c.pool = pool;
	c.npool = 1;
	c.storage_agents = &agent;
	c.nstorage_agents = 1;
	c.isns_server = "127.0.0.1:3205";
	c.isns_source = "iqn.2026-01.test:ns";
	ck_assert_msg(redisc_start(&c, err, sizeof(err)) == 0, "start: %s", err);
}

static int ut_moved, ut_failed;
static void on_event(int topic, const void *data, void *arg)
{
	const struct redisc_event *ev = data;

	(void)topic, (void)arg;
	ut_moved += ev->type == REDISC_EV_MOVED;
	ut_failed += ev->type == REDISC_EV_MOVE_FAILED;
}
static int ut_sub;

static void setup(void)
{
	ut_tmpdir_make(ut_dir, sizeof(ut_dir), "test_redisc_move");
	snprintf(ut_state_path, sizeof(ut_state_path), "%s/state", ut_dir);
	state_open();
	redisc_clock_ms = ut_clock_ms;
	redisc_clock_wall = ut_clock_wall;
	memset(&sa, 0, sizeof(sa));
	memset(ut_timers, 0, sizeof(ut_timers));
	ut_npend = 0;
	sa.next_index = 7;
	redisc_move_ops_register(&fake_ops);
	ut_moved = ut_failed = 0;
	ut_sub = bus_subscribe(BUS_REDISCOVER, on_event, NULL);
	start();
}

static void teardown(void)
{
	bus_unsubscribe(ut_sub);
	redisc_stop();
	redisc_move_ops_register(NULL);
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	ut_tmpdir_remove(ut_dir);
}

static struct redisc_feedback fb(const char *initiator, const char *target)
{
	struct redisc_feedback f;

	memset(&f, 0, sizeof(f));
	snprintf(f.initiator, sizeof(f.initiator), "%s", initiator);
	snprintf(f.target, sizeof(f.target), "%s", target);
	f.portal.type = 1;
	inet_pton(AF_INET, "10.1.0.3", f.portal.a);
	f.portal.port = 3260;
	/* Host_1 the heavy one; a request (no initiator) carries no bytes that count. */
	f.bytes = initiator[0] && initiator[strlen(initiator) - 1] == '1' ? 900u << 20 : 100u << 20;
	f.have_bytes = 1;
	return f;
}

/* The storage agent reports Host_1 and Host_2 on X at 10.1.0.3; a request for X there makes the decision. */
static const struct redisc_decision *trigger(void)
{
	struct redisc_feedback h1 = fb(HOST1, X), h2 = fb(HOST2, X), req = fb("", X);
	const struct redisc_decision *d;

	ck_assert_int_eq(redisc_take(&h1, 0, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
	d = redisc_decision_next(0);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* Runs the machine until it stops asking: answers, then polls and deadlines. */
static void run(void)
{
	for (int i = 0; i < 100 && (ut_npend || ut_moved + ut_failed == 0); i++) {
		if (ut_npend)
			deliver();
		else
			fire_oneshots();
	}
}

static const struct redisc_pool *pool_entry(void)
{
	return redisc_pool_find(1);
}

START_TEST(move_succeeds)
{
	const struct redisc_decision *d = trigger();
	char text[64];

	ck_assert_int_eq(d->state, REDISC_ST_IN_PROGRESS);
	ck_assert_int_eq(d->step, REDISC_MV_INDEX);
	ck_assert_uint_eq(pool_entry()->decision, d->index); /* reserved at once */
	sa.active_after = 2;
	run();
	d = redisc_decision_next(0);
	ck_assert_int_eq(d->state, REDISC_ST_DONE);
	ck_assert_str_eq(d->error, "");
	ck_assert_int_eq(d->step, REDISC_MV_FINISH);
	ck_assert_uint_eq(d->stor_row, 7);
	redisc_addr_text(&d->new_portal, text, sizeof(text));
	ck_assert_str_eq(text, "10.1.0.4:3260");
	ck_assert_int_eq(sa.row, 1);
	ck_assert_int_eq(sa.creates_with_iface, 1);
	ck_assert_int_ge(sa.polls, 3);
	ck_assert_int_eq(sa.isns_moved, 1);
	/* Both of X's sessions at the old portal; Host_2's session on Y stays. */
	ck_assert_int_eq(sa.ends, 2);
	ck_assert_uint_eq(d->sessions_ended, 2);
	ck_assert_int_eq(ut_moved, 1);
	ck_assert_int_eq(ut_failed, 0);
	ck_assert_uint_eq(pool_entry()->decision, d->index);
	ck_assert_uint_eq(redisc_counters()->moves, 1);
	/* The ended sessions are forgotten: a late request for the portal X has left decides nothing. */
	{
		struct redisc_feedback h1 = fb(HOST1, X), req = fb("", X);
		uint64_t decisions = redisc_counters()->decisions;

		for (const struct redisc_session *s = redisc_session_next(0); s; s = redisc_session_next(s->index))
			ck_assert(strcmp(s->target, X) != 0 || memcmp(s->portal.a, h1.portal.a, 4) != 0);
		ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_UNKNOWN_SESSION);
		ck_assert_uint_eq(redisc_counters()->decisions, decisions);
	}
	/* The outcome: who the storage agent sees logged in again elsewhere (not at the old portal), once each. */
	{
		struct redisc_feedback h1 = fb(HOST1, X), h2 = fb(HOST2, X);

		ut_wall += 2;
		ck_assert_int_eq(redisc_take(&h1, 0, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
		inet_pton(AF_INET, "10.1.0.4", h2.portal.a);
		ck_assert_int_eq(redisc_take(&h2, 0, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
		ck_assert_int_eq(redisc_take(&h2, 0, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
		d = redisc_decision_next(0);
		ck_assert_str_eq(d->outcome, HOST2 "@10.1.0.4:3260+2");
	}
}
END_TEST

static void expect_failed(const char *error_part, int destroys, int isns_undos)
{
	const struct redisc_decision *d;

	run();
	d = redisc_decision_next(0);
	ck_assert_int_eq(d->state, REDISC_ST_FAILED);
	ck_assert_msg(strstr(d->error, error_part) != NULL, "error \"%s\" lacks \"%s\"", d->error, error_part);
	ck_assert_int_eq(sa.row_destroys, destroys);
	ck_assert_int_eq(sa.isns_undos, isns_undos);
	ck_assert_int_eq(sa.isns_moved, 0);
	ck_assert_int_eq(sa.ends, 0);
	ck_assert_int_eq(ut_failed, 1);
	ck_assert_int_eq(ut_moved, 0);
	ck_assert_uint_eq(pool_entry()->decision, 0); /* free again */
	ck_assert_uint_eq(redisc_counters()->moves_failed, 1);
}

START_TEST(storage_agent_unreachable)
{
	sa.unreachable = 1;
	trigger();
	expect_failed("storage agent unreachable", 0, 0);
	ck_assert_int_eq(sa.row, 0);
}
END_TEST

START_TEST(tgt_refuses_portal)
{
	sa.refuse_tgt = 1;
	trigger();
	expect_failed("tgt refused the portal", 1, 0);
}
END_TEST

START_TEST(tgt_never_listens)
{
	sa.active_after = 1000000;
	trigger();
	/* Every poll answers notInService; the deadline passes. */
	for (int i = 0; i < 5 && !ut_failed; i++) {
		run();
		ut_ms += redisc_move_step_ms;
	}
	expect_failed("does not listen", 1, 0);
}
END_TEST

START_TEST(isns_refuses)
{
	sa.isns_fail = 1;
	trigger();
	expect_failed("iSNS refused", 1, 1);
	ck_assert_int_eq(sa.row, 0);
}
END_TEST

/* The name server does not know the target: the move goes on without iSNS and says so in the outcome. */
START_TEST(isns_unknown_target)
{
	const struct redisc_decision *d;

	sa.isns_fail = -ENOENT;
	trigger();
	sa.active_after = 1;
	run();
	d = redisc_decision_next(0);
	ck_assert_int_eq(d->state, REDISC_ST_DONE);
	ck_assert_str_eq(d->outcome, "iSNS:not-registered");
	ck_assert_int_eq(sa.isns_calls, 1);
	ck_assert_int_eq(sa.isns_undos, 0);
	ck_assert_int_eq(sa.ends, 2);
	ck_assert_int_eq(ut_moved, 1);
}
END_TEST

/* No answer at all (the client dropped the request): the step's deadline fails the move and undo runs. */
START_TEST(no_answer_deadline)
{
	trigger();
	ut_npend = 0; /* the NextIndex answer is lost */
	fire_oneshots();
	expect_failed("no answer", 0, 0);
}
END_TEST

START_TEST(pool_exhausted)
{
	const struct redisc_decision *d;
	struct redisc_feedback h1 = fb(HOST1, X), h2 = fb(HOST2, X), req = fb("", X);

	trigger();
	run();
	ut_moved = 0;
	ut_wall += 301;
	/* Sessions at 10.1.0.3 again (the move forgot the ended ones), and the only pool address is taken now. */
	ck_assert_int_eq(redisc_take(&h1, 0, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "127.0.0.1:40000"), REDISC_DROP_NONE);
	d = redisc_decision_find(2);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->state, REDISC_ST_FAILED);
	ck_assert_str_eq(d->error, "address pool exhausted");
}
END_TEST

static void restart(void)
{
	redisc_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	memset(ut_timers, 0, sizeof(ut_timers));
	ut_npend = 0; /* answers to the old run are lost with it */
	state_open();
	start();
}

/* A restart after the portal was created and iSNS updated: both are undone, the row says so. */
START_TEST(restart_mid_move_undoes)
{
	trigger();
	/* Deliver until the iSNS step has run, not the sessions. */
	for (int i = 0; i < 50 && !sa.isns_moved; i++) {
		if (ut_npend)
			deliver_one();
		else
			fire_oneshots();
	}
	ck_assert_int_eq(sa.isns_moved, 1);
	ck_assert_int_eq(sa.row, 1);
	restart();
	ck_assert_int_eq(redisc_decision_next(0)->state, REDISC_ST_IN_PROGRESS);
	ck_assert_int_ge(redisc_decision_next(0)->step, REDISC_MV_ISNS);
	run();
	ck_assert_int_eq(redisc_decision_next(0)->state, REDISC_ST_FAILED);
	ck_assert_str_eq(redisc_decision_next(0)->error, "agent restarted during the move; undone");
	ck_assert_int_eq(sa.isns_moved, 0);
	ck_assert_int_eq(sa.isns_undos, 1);
	ck_assert_int_eq(sa.row, 0);
	ck_assert_int_eq(sa.row_destroys, 1);
	ck_assert_int_eq(sa.ends, 0);
	ck_assert_uint_eq(pool_entry()->decision, 0);
	/* Stays so across the next restart. */
	restart();
	run();
	ck_assert_int_eq(redisc_decision_next(0)->state, REDISC_ST_FAILED);
	ck_assert_int_eq(sa.row_destroys, 1);
}
END_TEST

/* The storage agent refuses to end the sessions: iSNS goes back, the portal row goes. */
START_TEST(session_end_refused)
{
	sa.end_fail = 1;
	trigger();
	expect_failed("ending sessions: commitFailed", 1, 1);
}
END_TEST

/* The undo itself fails (the storage agent stops answering before the row's destroy): the row says both. */
START_TEST(undo_fails)
{
	const struct redisc_decision *d;

	sa.isns_fail = 1;
	sa.destroy_fail = 1;
	trigger();
	run();
	d = redisc_decision_next(0);
	ck_assert_int_eq(d->state, REDISC_ST_FAILED);
	ck_assert_str_eq(d->error, "iSNS: iSNS refused; undo failed: no answer");
	ck_assert_int_eq(ut_failed, 1);
}
END_TEST

/* A reload in the middle of a move (the storage agents' list replaced) does not stop it. */
START_TEST(reload_mid_move)
{
	struct sa_rediscover_config c;
	char err[128] = "";

	trigger();
	deliver_one(); /* the index */
	memset(&c, 0, sizeof(c));
	c.mode = "act";
	c.target_cooldown = 300;
	c.portal_cooldown = 300;
	c.max_moves_per_hour = 6;
	c.imbalance_share = 70;
	c.session_age_out = 120;
	c.history = 100;
	c.agent_port = 162;
	c.storage_users = su;
	c.nstorage_users = 1;
	c.pool = pool;
	c.npool = 1;
	c.storage_agents = &agent;
	c.nstorage_agents = 1;
	c.isns_server = "127.0.0.1:3205";
	c.isns_source = "iqn.2026-01.test:ns";
	ck_assert_msg(redisc_reload(&c, err, sizeof(err)) == 0, "reload: %s", err);
	run();
	ck_assert_int_eq(redisc_decision_next(0)->state, REDISC_ST_DONE);
	ck_assert_int_eq(ut_moved, 1);
}
END_TEST

/* Two moves for one storage agent at once: the second waits for the first (they would race for one row index). */
START_TEST(moves_of_one_agent_queue)
{
	static char *pool2[] = {"10.1.0.4@veth36", "10.1.0.5"};
	struct sa_rediscover_config c;
	struct redisc_addr if36 = {.type = 1, .port = 3260}, if38 = {.type = 1, .port = 3260};
	char err[128] = "";

	redisc_stop();
	memset(&c, 0, sizeof(c));
	c.mode = "act";
	c.max_moves_per_hour = 6;
	c.imbalance_share = 70;
	c.session_age_out = 120;
	c.history = 100;
	c.agent_port = 162;
	c.pool = pool2;
	c.npool = 2;
	c.storage_agents = &agent;
	c.nstorage_agents = 1;
	c.isns_server = "127.0.0.1:3205";
	c.isns_source = "iqn.2026-01.test:ns";
	ck_assert_msg(redisc_start(&c, err, sizeof(err)) == 0, "start: %s", err);
	inet_pton(AF_INET, "10.1.0.3", if36.a);
	inet_pton(AF_INET, "9.3.1.52", if38.a);
	ck_assert_int_eq(redisc_trigger(X, &if36, ""), 1);
	ck_assert_int_eq(ut_npend, 1); /* the first asks for a row index */
	ck_assert_int_eq(redisc_trigger(X, &if38, ""), 2);
	ck_assert_int_eq(ut_npend, 1); /* the second waits */
	ck_assert_int_eq(redisc_decision_find(2)->state, REDISC_ST_IN_PROGRESS);
	for (int i = 0; i < 200 && ut_moved < 2; i++) {
		if (ut_npend)
			deliver_one();
		else
			fire_oneshots();
	}
	ck_assert_int_eq(ut_moved, 2);
	ck_assert_int_eq(redisc_decision_find(1)->state, REDISC_ST_DONE);
	ck_assert_int_eq(redisc_decision_find(2)->state, REDISC_ST_DONE);
	ck_assert_int_eq(sa.isns_calls, 2);
}
END_TEST

static void back_to_in_progress(struct redisc_decision *d, void *arg)
{
	(void)arg;
	d->state = REDISC_ST_IN_PROGRESS;
}

/* A restart after everything but the final write: completed, not undone, the pool entry taken again. */
START_TEST(restart_after_last_step_completes)
{
	uint32_t index = trigger()->index;

	run();
	ck_assert_int_eq(redisc_decision_next(0)->state, REDISC_ST_DONE);
	/* As if the agent had died before writing "done" (the step FINISH was persisted). */
	ck_assert_int_eq(redisc_decision_update(index, back_to_in_progress, NULL), 0);
	restart();
	ut_moved = 0;
	run();
	ck_assert_int_eq(redisc_decision_next(0)->state, REDISC_ST_DONE);
	ck_assert_int_eq(ut_moved, 1);
	ck_assert_int_eq(sa.row_destroys, 0);
	ck_assert_int_eq(sa.isns_undos, 0);
	ck_assert_uint_eq(pool_entry()->decision, index);
	/* A finished move keeps its pool entry across restarts. */
	restart();
	ck_assert_uint_eq(pool_entry()->decision, index);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("redisc_move");
	TCase *tc = tcase_create("move");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, move_succeeds);
	tcase_add_test(tc, storage_agent_unreachable);
	tcase_add_test(tc, tgt_refuses_portal);
	tcase_add_test(tc, tgt_never_listens);
	tcase_add_test(tc, isns_refuses);
	tcase_add_test(tc, isns_unknown_target);
	tcase_add_test(tc, no_answer_deadline);
	tcase_add_test(tc, pool_exhausted);
	tcase_add_test(tc, restart_mid_move_undoes);
	tcase_add_test(tc, restart_after_last_step_completes);
	tcase_add_test(tc, session_end_refused);
	tcase_add_test(tc, undo_fails);
	tcase_add_test(tc, reload_mid_move);
	tcase_add_test(tc, moves_of_one_agent_queue);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
