/* test_rediscover.c: the rediscover engine's rules and decisions with seed 000's Fig. 2 (Host_1, Host_2, targets X, Y,
 * Z, interfaces 36 and 38) as vectors: thresholds, hold time, cooldowns, hourly cap, competing groups, forged feedback,
 * a burst of 1,000 requests, and the history across a restart. */
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
#include "engines/rediscover/redisc_poll.h"
#include "engines/rediscover/rediscover.h"
#include "tests/unit/tmpdir.h"

/* ---- an event loop whose timers the test fires itself ---------------------------------------------------- */

static cm_timer_cb ut_timer_cb;
static void *ut_timer_arg;

#define EVLOOP_STUB_NO_TIMERS
#include "tests/unit/evloop_stub.h"

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	(void)ms;
	(void)repeat;
	ut_timer_cb = cb;
	ut_timer_arg = arg;
	return 1;
}
void cm_ev_cancel(unsigned int id)
{
	(void)id;
	ut_timer_cb = NULL;
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
/* Both clocks move together. */
static void advance(unsigned int s)
{
	ut_ms += (uint64_t)s * 1000u;
	ut_wall += s;
}

/* ---- seed 000 Fig. 2 ------------------------------------------------------------------------------------- */

#define HOST1 "Host_1" /* initiator 16: the heavy one, the offender */
#define HOST2 "Host_2" /* initiator 18: light I/O, its latency suffers */
#define IF36 "10.1.0.3"
#define IF38 "9.3.1.52"
#define POOL "10.1.0.4"
#define LATENCY_MAX 20000u /* microseconds */

static struct redisc_policy seed_policy(void)
{
	struct redisc_policy p;

	memset(&p, 0, sizeof(p));
	p.mode = REDISC_DRY_RUN;
	p.hold_s = 10;
	p.target_cooldown_s = 300;
	p.portal_cooldown_s = 300;
	p.max_moves_per_hour = 6;
	p.imbalance_pct = 70;
	p.age_out_s = 120;
	for (int i = 0; i < REDISC_NMETRICS; i++)
		p.th[i].dir = REDISC_ABOVE;
	p.th[REDISC_M_LATENCY - 1] = (struct redisc_threshold){.value = LATENCY_MAX, .dir = REDISC_ABOVE, .enabled = 1};
	p.th[REDISC_M_TX_MIN - 1] = (struct redisc_threshold){.value = 512, .dir = REDISC_BELOW, .enabled = 1};
	return p;
}

static struct redisc_metrics latency(uint32_t us)
{
	struct redisc_metrics m = {.have = 1u << (REDISC_M_LATENCY - 1)};

	m.v[REDISC_M_LATENCY - 1] = us;
	return m;
}

START_TEST(thresholds_and_directions)
{
	struct redisc_policy p = seed_policy();
	struct redisc_metrics m = latency(LATENCY_MAX);

	ck_assert_int_eq(redisc_policy_validate(&p), 0);
	/* "outside" is strictly beyond the value. */
	ck_assert_uint_eq(redisc_outside(&p, &m), 0);
	m = latency(LATENCY_MAX + 1);
	ck_assert_uint_eq(redisc_outside(&p, &m), 1u << (REDISC_M_LATENCY - 1));
	/* A starved minimum rate is outside below its value; a metric not reported is never outside. */
	m.v[REDISC_M_TX_MIN - 1] = 100;
	m.have |= 1u << (REDISC_M_TX_MIN - 1);
	ck_assert_uint_eq(redisc_outside(&p, &m), (1u << (REDISC_M_LATENCY - 1)) | (1u << (REDISC_M_TX_MIN - 1)));
	p.th[REDISC_M_TX_MIN - 1].enabled = 0;
	ck_assert_uint_eq(redisc_outside(&p, &m), 1u << (REDISC_M_LATENCY - 1));
	p.imbalance_pct = 49;
	ck_assert_int_eq(redisc_policy_validate(&p), -EINVAL);
}
END_TEST

START_TEST(hold_time_is_hysteresis)
{
	struct redisc_policy p = seed_policy();
	struct redisc_hold h;
	struct redisc_metrics bad = latency(50000), good = latency(5000);
	uint32_t v = 0;

	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 1000, &v), 0); /* outside from t = 1 s */
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 9000, &v), 0); /* 8 s */
	ck_assert_uint_eq(redisc_hold_age(&h, 9000), 8);
	ck_assert_int_eq(redisc_hold_update(&h, &p, &good, 9500, &v), 0); /* back inside: starts over */
	ck_assert_uint_eq(redisc_hold_age(&h, 9500), 0);
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 10000, &v), 0);
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 19999, &v), 0);
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 20000, &v), REDISC_M_LATENCY);
	ck_assert_uint_eq(v, 50000);
	/* Once fired, the next trigger needs another full hold time. */
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 21000, &v), 0);
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 30000, &v), REDISC_M_LATENCY);
	/* Hold 0: the first feedback outside decides. */
	p.hold_s = 0;
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(redisc_hold_update(&h, &p, &bad, 40000, &v), REDISC_M_LATENCY);
}
END_TEST

START_TEST(cooldowns_and_hourly_cap)
{
	struct redisc_policy p = seed_policy();
	struct redisc_limiter l;
	time_t t = 1000000;

	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(redisc_limit_check(&l, &p, "X", IF36 ":3260", t), REDISC_GO);
	ck_assert_int_eq(redisc_limit_note(&l, "X", IF36 ":3260", POOL ":3260", t), 0);
	/* The target, the old portal and the new one cool down. */
	ck_assert_int_eq(redisc_limit_check(&l, &p, "X", IF38 ":3260", t + 299), REDISC_SUPP_TARGET);
	ck_assert_int_eq(redisc_limit_check(&l, &p, "Y", IF36 ":3260", t + 299), REDISC_SUPP_PORTAL);
	ck_assert_int_eq(redisc_limit_check(&l, &p, "Y", POOL ":3260", t + 299), REDISC_SUPP_PORTAL);
	ck_assert_int_eq(redisc_limit_check(&l, &p, "Y", IF38 ":3260", t + 1), REDISC_GO);
	ck_assert_int_eq(redisc_limit_check(&l, &p, "X", IF36 ":3260", t + 300), REDISC_GO);
	/* Six moves of different targets within the hour: the seventh waits for the first to age out. */
	for (int i = 1; i < 6; i++) {
		char tg[8], po[32];

		snprintf(tg, sizeof(tg), "T%d", i);
		snprintf(po, sizeof(po), "10.9.0.%d:3260", i);
		ck_assert_int_eq(redisc_limit_note(&l, tg, po, NULL, t + i), 0);
	}
	ck_assert_uint_eq(redisc_limit_moves(&l, t + 10), 6);
	ck_assert_int_eq(redisc_limit_check(&l, &p, "Z", "10.9.9.9:3260", t + 10), REDISC_SUPP_CAP);
	ck_assert_int_eq(redisc_limit_check(&l, &p, "Z", "10.9.9.9:3260", t + 3600), REDISC_GO);
	ck_assert_uint_eq(redisc_limit_moves(&l, t + 3600), 5);
	p.max_moves_per_hour = 0;
	ck_assert_int_eq(redisc_limit_check(&l, &p, "Z", "10.9.9.9:3260", t + 7200), REDISC_SUPP_CAP);
	redisc_limit_free(&l);
}
END_TEST

START_TEST(competing_group_judgement)
{
	struct redisc_policy p = seed_policy();
	unsigned int lat = 1u << (REDISC_M_LATENCY - 1);
	/* Host_1 moves 900 MB over interface 36, Host_2 100 MB in two sessions and suffers. */
	struct redisc_member g[] = {
	    {HOST2, 60u << 20, lat},
	    {HOST1, 900u << 20, 0},
	    {HOST2, 40u << 20, 0},
	};
	struct redisc_judgement j;

	ck_assert_int_eq(redisc_judge(&p, g, 3, &j), 0);
	ck_assert_uint_eq(j.ninitiators, 2);
	ck_assert_str_eq(j.order[0], HOST1);
	ck_assert_str_eq(j.order[1], HOST2);
	ck_assert_uint_eq(j.share_pct, 90);
	ck_assert_int_eq(j.imbalance, 1);
	ck_assert_int_eq(j.offender, 0);
	redisc_judgement_free(&j);

	/* Nobody suffers: a large share alone is no imbalance. */
	g[0].outside = 0;
	ck_assert_int_eq(redisc_judge(&p, g, 3, &j), 0);
	ck_assert_int_eq(j.imbalance, 0);
	ck_assert_int_eq(j.offender, -1);
	redisc_judgement_free(&j);

	/* Host_1 at 60 %: below the 70 % share, no offender even though Host_2 suffers. */
	g[0].outside = lat;
	g[1].bytes = 150u << 20;
	ck_assert_int_eq(redisc_judge(&p, g, 3, &j), 0);
	ck_assert_uint_eq(j.share_pct, 60);
	ck_assert_int_eq(j.offender, -1);
	redisc_judgement_free(&j);

	/* One initiator alone is no competing group. */
	ck_assert_int_eq(redisc_judge(&p, g + 1, 1, &j), 0);
	ck_assert_uint_eq(j.ninitiators, 1);
	ck_assert_int_eq(j.offender, -1);
	redisc_judgement_free(&j);
}
END_TEST

START_TEST(offender_alternative)
{
	/* Fig. 2: X only at interface 36; Y at 36 and 38; Host_1's domain admits X and Y, Z is someone else's. */
	static const char *const x_portals[] = {IF36 ":3260"};
	static const char *const y_portals[] = {IF36 ":3260", IF38 ":3260"};
	static const char *const z_portals[] = {IF38 ":3260"};
	static const char *const host1[] = {HOST1, HOST2};
	static const char *const other[] = {"Host_3"};
	struct redisc_dir_target d[] = {
	    {"X", x_portals, 1, host1, 2},
	    {"Z", z_portals, 1, other, 1},
	    {"Y", y_portals, 2, host1, 2},
	};
	static const char *const x_both[] = {IF36 ":3260", IF38 ":3260"};
	struct redisc_alt a;

	/* The seed's target Y at 9.3.1.52, never Z (not in Host_1's domain) and never the moved portal. */
	ck_assert_int_eq(redisc_pick_alternative(d, 3, "X", IF36 ":3260", POOL ":3260", HOST1, &a), 0);
	ck_assert_int_eq(a.kind, REDISC_ALT_TARGET);
	ck_assert_str_eq(a.target, "Y");
	ck_assert_str_eq(a.portal, IF38 ":3260");
	/* X also at interface 38 (the issue's lab): the same target at the other interface comes first. */
	d[0].portals = x_both;
	d[0].nportals = 2;
	ck_assert_int_eq(redisc_pick_alternative(d, 3, "X", IF36 ":3260", POOL ":3260", HOST1, &a), 0);
	ck_assert_int_eq(a.kind, REDISC_ALT_PORTAL);
	ck_assert_str_eq(a.target, "X");
	ck_assert_str_eq(a.portal, IF38 ":3260");
	/* Nothing else admitted: no alternative. */
	ck_assert_int_eq(redisc_pick_alternative(d, 2, "Z", IF38 ":3260", NULL, "Host_3", &a), -ENOENT);
}
END_TEST

/* ---- the engine ------------------------------------------------------------------------------------------- */

static char ut_dir[256], ut_state_path[300];
static struct cm_state *ut_state;

static char *fu[] = {"hostagent", "storagent"};
static char *su[] = {"storagent"};
static char *pool[] = {POOL};
static struct sa_redisc_threshold_cfg th[] = {{"latency", (int)LATENCY_MAX, "above"}};

static struct sa_rediscover_config seed_config(const char *mode, int hold)
{
	struct sa_rediscover_config c;

	memset(&c, 0, sizeof(c));
	c.mode = (char *)mode;
	c.hold_time = hold;
	c.target_cooldown = 300;
	c.portal_cooldown = 300;
	c.max_moves_per_hour = 6;
	c.imbalance_share = 70;
	c.session_age_out = 120;
	c.history = 1000;
	c.agent_port = 162;
	c.feedback_users = fu;
	c.nfeedback_users = 2;
	c.storage_users = su;
	c.nstorage_users = 1;
	c.thresholds = th;
	c.nthresholds = 1;
	c.pool = pool;
	c.npool = 1;
	return c;
}

static void state_open(void)
{
	int corrupt = 0;

	ck_assert_int_eq(cm_state_open(ut_state_path, &ut_state, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	sa_engines_set_state(ut_state);
}

static void setup(void)
{
	ut_tmpdir_make(ut_dir, sizeof(ut_dir), "test_rediscover");
	snprintf(ut_state_path, sizeof(ut_state_path), "%s/state", ut_dir);
	state_open();
	redisc_clock_ms = ut_clock_ms;
	redisc_clock_wall = ut_clock_wall;
}

static void teardown(void)
{
	redisc_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	ut_tmpdir_remove(ut_dir);
}

static void start(const char *mode, int hold)
{
	struct sa_rediscover_config c = seed_config(mode, hold);
	char err[128] = "";

	ck_assert_msg(redisc_start(&c, err, sizeof(err)) == 0, "start: %s", err);
}

static struct redisc_feedback fb_session(const char *initiator, const char *target, const char *ip, uint32_t lat_us,
                                         uint64_t bytes)
{
	struct redisc_feedback fb;

	memset(&fb, 0, sizeof(fb));
	snprintf(fb.initiator, sizeof(fb.initiator), "%s", initiator);
	snprintf(fb.target, sizeof(fb.target), "%s", target);
	fb.portal.type = 1;
	ck_assert_int_eq(inet_pton(AF_INET, ip, fb.portal.a), 1);
	fb.portal.port = 3260;
	if (lat_us) {
		fb.m = latency(lat_us);
	}
	if (bytes) {
		fb.bytes = bytes;
		fb.have_bytes = 1;
	}
	return fb;
}

/* The storage agent reports both sessions on X at interface 36 (Fig. 2): they exist from now on. */
static void storage_reports(void)
{
	struct redisc_feedback h1 = fb_session(HOST1, "X", IF36, 0, 900u << 20);
	struct redisc_feedback h2 = fb_session(HOST2, "X", IF36, 0, 100u << 20);

	ck_assert_int_eq(redisc_take(&h1, 0, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	ck_assert_uint_eq(redisc_session_count(), 2);
}

static const struct redisc_decision *last_decision(void)
{
	const struct redisc_decision *d = NULL, *n;

	for (n = redisc_decision_next(0); n; n = redisc_decision_next(n->index))
		d = n;
	return d;
}

static int ut_events;
static void count_event(int topic, const void *ev, void *arg)
{
	(void)topic;
	(void)arg;
	ck_assert_int_eq(((const struct redisc_event *)ev)->type, REDISC_EV_DECISION);
	ut_events++;
}

START_TEST(seed_scenario_dry_run)
{
	struct redisc_feedback h2 = fb_session(HOST2, "X", IF36, 45000, 0);
	const struct redisc_counters *c;
	const struct redisc_decision *d;
	int sub = bus_subscribe(BUS_REDISCOVER, count_event, NULL);
	char text[64];

	ck_assert_int_gt(sub, 0);
	ut_events = 0;
	start("dry-run", 10);
	storage_reports();
	/* Host_2's agent reports its latency outside the threshold; the hold time runs first. */
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "hostagent", "10.0.1.2:50000"), REDISC_DROP_NONE);
	advance(5);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "hostagent", "10.0.1.2:50000"), REDISC_DROP_NONE);
	ck_assert_ptr_null(last_decision());
	ck_assert_uint_eq(redisc_outside_count(REDISC_M_LATENCY), 1);
	advance(5);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "hostagent", "10.0.1.2:50000"), REDISC_DROP_NONE);

	d = last_decision();
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(ut_events, 1);
	ck_assert_int_eq(d->trigger, REDISC_TRIG_FEEDBACK);
	ck_assert_str_eq(d->source, "hostagent@10.0.1.2:50000");
	ck_assert_int_eq(d->metric, REDISC_M_LATENCY);
	ck_assert_uint_eq(d->value, 45000);
	ck_assert_str_eq(d->target, "X");
	redisc_addr_text(&d->old_portal, text, sizeof(text));
	ck_assert_str_eq(text, IF36 ":3260");
	redisc_addr_text(&d->new_portal, text, sizeof(text));
	ck_assert_str_eq(text, POOL ":3260");
	ck_assert_str_eq(d->competing, HOST1 " " HOST2);
	ck_assert_str_eq(d->offender, HOST1);
	/* Type 2 to the offender (no agent known: iSNS only), type 1 to Host_2's agent (learned from its feedback). */
	ck_assert_str_eq(d->messages, "type2:" HOST1 "@iSNS type1:" HOST2 "@10.0.1.2:162");
	ck_assert_int_eq(d->mode, REDISC_DRY_RUN);
	ck_assert_int_eq(d->state, REDISC_ST_RECORDED);
	ck_assert_str_eq(d->error, "");
	c = redisc_counters();
	ck_assert_uint_eq(c->received, 5);
	ck_assert_uint_eq(c->accepted, 5);
	ck_assert_uint_eq(c->dropped, 0);
	ck_assert_uint_eq(c->decisions, 1);
	ck_assert_uint_eq(c->moves, 0);
	bus_unsubscribe(sub);
}
END_TEST

START_TEST(forged_feedback_moves_nothing)
{
	struct redisc_feedback h2 = fb_session(HOST2, "X", IF36, 90000, 0);
	struct redisc_feedback ghost = fb_session("Host_9", "X", IF36, 90000, 0);
	struct redisc_feedback req = fb_session("", "X", IF38, 0, 0);
	const struct redisc_counters *c;

	start("dry-run", 0);
	storage_reports();
	/* v2c (a community, even a valid one), or a v3 user not listed: unauthorized. */
	ck_assert_int_eq(redisc_take(&h2, 0, 2, "public", "10.6.6.6:1"), REDISC_DROP_UNAUTHORIZED);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "mallory", "10.6.6.6:1"), REDISC_DROP_UNAUTHORIZED);
	/* A session no storage agent reported, a request for a portal without sessions. */
	ck_assert_int_eq(redisc_take(&ghost, 0, 3, "hostagent", "10.0.1.9:1"), REDISC_DROP_UNKNOWN_SESSION);
	ck_assert_int_eq(redisc_take(&req, 1, 3, "hostagent", "10.0.1.9:1"), REDISC_DROP_UNKNOWN_SESSION);
	/* Undecodable. */
	ck_assert_int_eq(redisc_take(NULL, 0, 3, "hostagent", "10.0.1.9:1"), REDISC_DROP_MALFORMED);
	c = redisc_counters();
	ck_assert_uint_eq(c->received, 7);
	ck_assert_uint_eq(c->accepted, 2);
	ck_assert_uint_eq(c->dropped, 5);
	ck_assert_uint_eq(c->dropped_unauthorized, 2);
	ck_assert_uint_eq(c->dropped_unknown_session, 2);
	ck_assert_uint_eq(c->dropped_malformed, 1);
	ck_assert_uint_eq(c->requests, 1);
	ck_assert_uint_eq(c->decisions, 0);
	ck_assert_ptr_null(last_decision());
	ck_assert_uint_eq(redisc_session_count(), 2);
}
END_TEST

START_TEST(burst_of_requests_moves_once_per_cooldown)
{
	struct redisc_feedback req = fb_session("", "X", IF36, 0, 0);
	const struct redisc_counters *c;
	const struct redisc_decision *d;

	snprintf(req.offender, sizeof(req.offender), "%s", HOST1);
	start("dry-run", 10);
	storage_reports();
	/* 1,000 requests inside one second: one decision, 999 suppressed. */
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	c = redisc_counters();
	ck_assert_uint_eq(c->requests, 1000);
	ck_assert_uint_eq(c->decisions, 1);
	ck_assert_uint_eq(c->suppressed, 999);
	d = last_decision();
	ck_assert_int_eq(d->trigger, REDISC_TRIG_REQUEST);
	ck_assert_int_eq(d->metric, REDISC_M_NONE);
	ck_assert_str_eq(d->offender, HOST1);
	ck_assert_str_eq(d->source, "storagent@10.0.0.2:40000");
	/* Just before the cooldown ends: still one; right after it: the second. */
	advance(299);
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	ck_assert_uint_eq(c->decisions, 1);
	advance(1);
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	ck_assert_uint_eq(c->decisions, 2);
	/* Off: feedback is kept, nothing is decided. */
	{
		struct redisc_policy p = *redisc_policy();

		p.mode = REDISC_OFF;
		ck_assert_int_eq(redisc_policy_set(&p), 0);
		advance(600);
		ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
		ck_assert_uint_eq(c->decisions, 2);
		p.mode = 7;
		ck_assert_int_eq(redisc_policy_set(&p), -EINVAL);
	}
}
END_TEST

START_TEST(pool_exhausted_and_act_are_recorded_as_failed)
{
	struct redisc_feedback req = fb_session("", "X", IF36, 0, 0);
	struct redisc_feedback req_pool = fb_session("", "X", POOL, 0, 0);
	struct redisc_feedback h = fb_session(HOST1, "X", POOL, 0, 1);
	const struct redisc_decision *d;

	start("act", 0);
	storage_reports();
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	d = last_decision();
	ck_assert_int_eq(d->mode, REDISC_ACT);
	ck_assert_int_eq(d->state, REDISC_ST_FAILED);
	/* No storage agent in the config serves the portal: nothing to move it with. */
	ck_assert_str_eq(d->error, "no storage agent serves " IF36 ":3260 (rediscover.storage_agents)");
	ck_assert_uint_eq(redisc_counters()->moves, 0);
	ck_assert_uint_eq(redisc_counters()->moves_failed, 1);
	/* A portal at the pool's only address has nowhere to go. */
	ck_assert_int_eq(redisc_take(&h, 0, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	advance(301);
	ck_assert_int_eq(redisc_take(&req_pool, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	d = last_decision();
	ck_assert_int_eq(d->state, REDISC_ST_FAILED);
	ck_assert_str_eq(d->error, "address pool exhausted");
	ck_assert_int_eq(d->new_portal.type, 0);
}
END_TEST

START_TEST(history_and_cooldown_survive_restart)
{
	struct redisc_feedback req = fb_session("", "X", IF36, 0, 0);
	const struct redisc_decision *d;
	uint32_t first;

	start("dry-run", 0);
	storage_reports();
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	first = last_decision()->index;
	redisc_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);

	state_open();
	start("dry-run", 0);
	d = last_decision();
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->index, first);
	ck_assert_str_eq(d->competing, HOST1 " " HOST2);
	ck_assert_str_eq(d->messages, "type1:" HOST1 "@iSNS type1:" HOST2 "@iSNS");
	ck_assert_int_eq(d->state, REDISC_ST_RECORDED);
	/* Sessions are not persisted: the storage agent reports them again. */
	storage_reports();
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	ck_assert_uint_eq(redisc_counters()->decisions, 0);
	ck_assert_uint_eq(redisc_counters()->suppressed, 1);
	advance(300);
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	ck_assert_uint_eq(last_decision()->index, first + 1);
}
END_TEST

START_TEST(sessions_age_out)
{
	struct redisc_feedback h2 = fb_session(HOST2, "X", IF36, 45000, 0);

	start("dry-run", 0);
	storage_reports();
	ck_assert_ptr_nonnull(ut_timer_cb);
	advance(120);
	ut_timer_cb(1, ut_timer_arg);
	ck_assert_uint_eq(redisc_session_count(), 2);
	advance(1);
	ut_timer_cb(1, ut_timer_arg);
	ck_assert_uint_eq(redisc_session_count(), 0);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "hostagent", "10.0.1.2:50000"), REDISC_DROP_UNKNOWN_SESSION);
}
END_TEST

START_TEST(competing_groups_live)
{
	struct redisc_feedback h2 = fb_session(HOST2, "X", IF36, 45000, 0);
	struct redisc_feedback y1 = fb_session(HOST1, "Y", IF38, 0, 10);
	struct redisc_feedback y2 = fb_session(HOST2, "Y", IF38, 0, 10);
	const struct redisc_group *g;
	struct redisc_group_view v;

	start("dry-run", 10);
	ck_assert_ptr_null(redisc_group_next(0));
	storage_reports();
	/* One initiator on Y: no group there. */
	ck_assert_int_eq(redisc_take(&y1, 0, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	g = redisc_group_next(0);
	ck_assert_ptr_null(redisc_group_next(g->index));
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->index, 1);
	ck_assert_str_eq(g->target, "X");
	ck_assert_int_eq(redisc_group_view(g, &v), 0);
	ck_assert_str_eq(v.initiators, HOST1 " " HOST2);
	ck_assert_str_eq(v.offender, "");
	ck_assert_uint_eq(v.share_pct, 90);
	ck_assert_int_eq(v.state, REDISC_G_BALANCED);
	/* Host_2 suffers: the hold time runs, Host_1 is the offender. */
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "hostagent", "10.0.1.2:50000"), REDISC_DROP_NONE);
	ck_assert_int_eq(redisc_group_view(redisc_group_find(1), &v), 0);
	ck_assert_str_eq(v.offender, HOST1);
	ck_assert_int_eq(v.state, REDISC_G_HOLDING);
	/* A second group on Y gets index 2; X keeps 1. */
	ck_assert_int_eq(redisc_take(&y2, 0, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	g = redisc_group_next(1);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->index, 2);
	ck_assert_str_eq(g->target, "Y");
	ck_assert_str_eq(redisc_group_find(1)->target, "X");
	/* The decision puts X into its cooldown. */
	advance(10);
	ck_assert_int_eq(redisc_take(&h2, 0, 3, "hostagent", "10.0.1.2:50000"), REDISC_DROP_NONE);
	ck_assert_ptr_nonnull(last_decision());
	ck_assert_int_eq(redisc_group_view(redisc_group_find(1), &v), 0);
	ck_assert_int_eq(v.state, REDISC_G_COOLING);
}
END_TEST

START_TEST(pool_rows_and_restart)
{
	struct redisc_addr a = {.type = 1, .port = 3261};
	struct redisc_feedback req = fb_session("", "X", IF36, 0, 0);
	const struct redisc_pool *e;

	ck_assert_int_eq(inet_pton(AF_INET, IF36, a.a), 1);
	start("dry-run", 0);
	e = redisc_pool_find(1);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->storage, REDISC_ST_PERMANENT);
	ck_assert_uint_eq(redisc_pool_next_index(), 2);
	ck_assert_int_eq(redisc_pool_validate(2, &a, "bad name", REDISC_ST_NONVOLATILE), -EINVAL);
	ck_assert_int_eq(redisc_pool_create(2, &a, "veth36", REDISC_ST_NONVOLATILE), 0);
	ck_assert_int_eq(redisc_pool_validate(3, &a, "", REDISC_ST_VOLATILE), -EEXIST);
	ck_assert_int_eq(redisc_pool_destroy_check(1), -EPERM);
	ck_assert_int_eq(cm_state_commit(ut_state), 0);
	redisc_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);

	state_open();
	start("dry-run", 0);
	e = redisc_pool_find(2);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->storage, REDISC_ST_NONVOLATILE);
	ck_assert_str_eq(e->iface, "veth36");
	ck_assert_uint_eq(e->addr.port, 3261);
	/* The SNMP row keeps its index; the config's entry comes after it (indexes hold while the agent runs). */
	e = redisc_pool_find(3);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->storage, REDISC_ST_PERMANENT);
	ck_assert_uint_eq(redisc_pool_next_index(), 4);
	/* Without the config's entry the port-only entry is the lowest free one: same address, new port. */
	{
		struct sa_rediscover_config c = seed_config("dry-run", 0);
		char err[128] = "";

		c.npool = 0;
		ck_assert_int_eq(redisc_reload(&c, err, sizeof(err)), 0);
		ck_assert_ptr_null(redisc_pool_find(3));
	}
	storage_reports();
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	{
		char text[64];

		redisc_addr_text(&last_decision()->new_portal, text, sizeof(text));
		ck_assert_str_eq(text, IF36 ":3261");
	}
	ck_assert_int_eq(redisc_pool_destroy(2), 0);
	ck_assert_ptr_null(redisc_pool_find(2));
}
END_TEST

/* The pool's and the initiator agents' state-file lines, byte for byte: what a create writes, what a destroy
 * removes, and which lines a start loads or skips (lines as earlier versions wrote them must load the same). */
#define LONG_IFACE "abcdefghijklmnopqrstuvwxyz0123456789" /* 36 characters: a load keeps the first 31 */
START_TEST(pool_and_agent_state_lines)
{
	struct redisc_addr p4 = {.type = 1, .a = {10, 1, 0, 8}, .port = 0};
	struct redisc_addr a6 = {.type = 2, .a = {0x20, 0x01, 0x0d, 0xb8, [15] = 7}, .port = 1162};
	const struct redisc_pool *e;
	const struct redisc_agent *a;

	cm_state_set(ut_state, "rediscover.pool.0000000005", "1 0a000105 3260 veth9");
	cm_state_set(ut_state, "rediscover.pool.0000000006", "2 20010db8000000000000000000000001 0 ");
	cm_state_set(ut_state, "rediscover.pool.0000000007", "1 0a000107 3261");
	cm_state_set(ut_state, "rediscover.pool.0000000009", "1 0a000109 3262 " LONG_IFACE);
	cm_state_set(ut_state, "rediscover.pool.0000000011", "1 0a00010 3260 veth9");     /* odd hex */
	cm_state_set(ut_state, "rediscover.pool.0000000012", "1 0a00010g 3260 veth9");    /* not hex */
	cm_state_set(ut_state, "rediscover.pool.0000000013", "3 0a000112 3260 veth9");    /* no such type */
	cm_state_set(ut_state, "rediscover.pool.0000000014", "1 0a000113 65536 veth9");   /* port */
	cm_state_set(ut_state, "rediscover.pool.0000000015", "1 0a000114 3260 bad/name"); /* interface */
	cm_state_set(ut_state, "rediscover.pool.0000000000", "1 0a000100 3260 veth9");    /* index 0 */
	cm_state_set(ut_state, "rediscover.agent.0000000003", "1 0a000102 1162 iqn.1994-05.com.example:host2");
	cm_state_set(ut_state, "rediscover.agent.0000000004",
	             "2 20010db8000000000000000000000002 2162 iqn.1994-05.com.example:host6");
	cm_state_set(ut_state, "rediscover.agent.0000000005", "1 0a000105 1162");        /* no initiator */
	cm_state_set(ut_state, "rediscover.agent.0000000006", "1 0a000106 0 Host_6");    /* port 0 */
	cm_state_set(ut_state, "rediscover.agent.0000000007", "1 0a0001 1162 Host_7");   /* short address */
	cm_state_set(ut_state, "rediscover.agent.4294967296", "1 0a000108 1162 Host_8"); /* index */
	ck_assert_int_eq(cm_state_commit(ut_state), 0);
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	state_open();
	start("dry-run", 0);

	e = redisc_pool_find(5);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->addr.type, 1);
	ck_assert_mem_eq(e->addr.a, "\x0a\x00\x01\x05", 4);
	ck_assert_uint_eq(e->addr.port, 3260);
	ck_assert_str_eq(e->iface, "veth9");
	ck_assert_int_eq(e->storage, REDISC_ST_NONVOLATILE);
	e = redisc_pool_find(6);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->addr.type, 2);
	ck_assert_mem_eq(e->addr.a, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	ck_assert_uint_eq(e->addr.port, 0);
	ck_assert_str_eq(e->iface, "");
	e = redisc_pool_find(7);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->iface, "");
	e = redisc_pool_find(9);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->iface, "abcdefghijklmnopqrstuvwxyz01234");
	for (uint32_t i = 11; i <= 15; i++)
		ck_assert_ptr_null(redisc_pool_find(i));
	ck_assert_ptr_null(redisc_pool_find(0));
	/* The config's entry comes after the highest index loaded (skipped lines take none). */
	ck_assert_int_eq(redisc_pool_find(10)->storage, REDISC_ST_PERMANENT);
	ck_assert_uint_eq(redisc_pool_next_index(), 11);

	a = redisc_agent_find(3);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->initiator, "iqn.1994-05.com.example:host2");
	ck_assert_int_eq(a->addr.type, 1);
	ck_assert_mem_eq(a->addr.a, "\x0a\x00\x01\x02", 4);
	ck_assert_uint_eq(a->addr.port, 1162);
	ck_assert_int_eq(a->origin, REDISC_ORIGIN_SNMP);
	ck_assert_int_eq(a->storage, REDISC_ST_NONVOLATILE);
	a = redisc_agent_find(4);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->addr.type, 2);
	ck_assert_uint_eq(a->addr.port, 2162);
	ck_assert_mem_eq(a->addr.a, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	for (uint32_t i = 5; i <= 8; i++)
		ck_assert_ptr_null(redisc_agent_find(i));
	ck_assert_uint_eq(redisc_agent_next_index(), 5);

	/* What a create writes: "TYPE HEX PORT TEXT" under the ten-digit index; volatile rows write nothing. */
	ck_assert_int_eq(redisc_pool_create(20, &p4, "", REDISC_ST_NONVOLATILE), 0);
	ck_assert_str_eq(cm_state_get(ut_state, "rediscover.pool.0000000020"), "1 0a010008 0 ");
	p4.a[3] = 9;
	p4.port = 3263;
	ck_assert_int_eq(redisc_pool_create(21, &p4, "eth0.5", REDISC_ST_NONVOLATILE), 0);
	ck_assert_str_eq(cm_state_get(ut_state, "rediscover.pool.0000000021"), "1 0a010009 3263 eth0.5");
	p4.a[3] = 10;
	ck_assert_int_eq(redisc_pool_create(22, &p4, "", REDISC_ST_VOLATILE), 0);
	ck_assert_ptr_null(cm_state_get(ut_state, "rediscover.pool.0000000022"));
	ck_assert_int_eq(redisc_agent_create(4000000000u, "Host_9", &a6, REDISC_ST_NONVOLATILE), 0);
	ck_assert_str_eq(cm_state_get(ut_state, "rediscover.agent.4000000000"),
	                 "2 20010db8000000000000000000000007 1162 Host_9");
	ck_assert_int_eq(redisc_agent_create(30, "Host_10", &a6, REDISC_ST_VOLATILE), 0);
	ck_assert_ptr_null(cm_state_get(ut_state, "rediscover.agent.0000000030"));
	ck_assert_int_eq(redisc_agent_find(4000000000u)->origin, REDISC_ORIGIN_SNMP);

	/* A destroy removes the line. */
	ck_assert_int_eq(redisc_pool_destroy(5), 0);
	ck_assert_ptr_null(cm_state_get(ut_state, "rediscover.pool.0000000005"));
	ck_assert_int_eq(redisc_agent_destroy(3), 0);
	ck_assert_ptr_null(cm_state_get(ut_state, "rediscover.agent.0000000003"));
	ck_assert_int_eq(redisc_agent_destroy(30), 0);
	ck_assert_int_eq(redisc_pool_destroy(22), 0);

	/* After a restart the rows created are back as they were. */
	ck_assert_int_eq(cm_state_commit(ut_state), 0);
	redisc_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	state_open();
	start("dry-run", 0);
	ck_assert_ptr_null(redisc_pool_find(5));
	ck_assert_str_eq(redisc_pool_find(21)->iface, "eth0.5");
	ck_assert_uint_eq(redisc_pool_find(21)->addr.port, 3263);
	ck_assert_uint_eq(redisc_pool_find(20)->addr.port, 0);
	ck_assert_int_eq(redisc_pool_find(22)->storage, REDISC_ST_PERMANENT); /* the config's entry again */
	ck_assert_ptr_null(redisc_agent_find(3));
	ck_assert_str_eq(redisc_agent_find(4000000000u)->initiator, "Host_9");
	ck_assert_ptr_null(redisc_agent_find(30));
}
END_TEST

/* A config pool entry names the storage host's interface after "@"; a reload changes it in place. */
START_TEST(pool_config_interface)
{
	static char *p2[] = {POOL "@veth36", IF38 ":3261"};
	struct sa_rediscover_config c = seed_config("dry-run", 0);
	char err[128] = "";

	c.pool = p2;
	c.npool = 2;
	ck_assert_msg(redisc_start(&c, err, sizeof(err)) == 0, "start: %s", err);
	ck_assert_str_eq(redisc_pool_find(1)->iface, "veth36");
	ck_assert_str_eq(redisc_pool_find(2)->iface, "");
	p2[0] = POOL "@veth37";
	ck_assert_int_eq(redisc_reload(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(redisc_pool_find(1)->iface, "veth37");
	p2[0] = POOL "@bad name";
	ck_assert_int_eq(redisc_reload(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "pool: not an address: " POOL "@bad name");
	p2[0] = POOL "@veth36";
}
END_TEST

static void note_outcome(struct redisc_decision *d, void *arg)
{
	snprintf(d->outcome, sizeof(d->outcome), "%s", (const char *)arg);
	d->index = 999; /* ignored: the row keeps its index */
}

/* Updating a stored row persists it: the change is there after a restart. */
START_TEST(decision_update_persists)
{
	struct redisc_feedback req = fb_session("", "X", IF36, 0, 0);
	uint32_t first;

	start("dry-run", 0);
	storage_reports();
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	first = last_decision()->index;
	ck_assert_int_eq(redisc_decision_update(first, note_outcome, "Host_2 logged in at 10.1.0.4:3260"), 0);
	ck_assert_int_eq(redisc_decision_update(first + 1, note_outcome, "x"), -ENOENT);
	ck_assert_uint_eq(last_decision()->index, first);
	redisc_stop();
	ck_assert_int_eq(redisc_decision_update(first, note_outcome, "x"), -ENOENT);
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);

	state_open();
	start("dry-run", 0);
	ck_assert_uint_eq(last_decision()->index, first);
	ck_assert_str_eq(last_decision()->outcome, "Host_2 logged in at 10.1.0.4:3260");
}
END_TEST

/* ---- pull: the storage agent's sanStorSessionTable through an injected walk ------------------------------ */

static cm_snmpc_vb_cb ut_vb;
static cm_snmpc_done_cb ut_done;
static void *ut_walk_arg;
static int ut_walks;
static char ut_walk_user[32];

static int ut_walk(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
                   cm_snmpc_done_cb done, void *arg)
{
	(void)root;
	(void)rootlen;
	ut_walks++;
	snprintf(ut_walk_user, sizeof(ut_walk_user), "%s", p->user);
	ut_vb = vb;
	ut_done = done;
	ut_walk_arg = arg;
	return 0;
}
static const struct redisc_poll_ops ut_poll_ops = {.walk = ut_walk};

/* One varbind of sanStorSessionEntry.col.tid.sid. */
static void ut_col(uint32_t col, uint32_t sid, int type, uint64_t v, const char *str, size_t len)
{
	uint32_t oid[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1, 15, 1, col, 1, sid};
	struct cm_snmpc_vb vb = {oid, 16, type, (int64_t)v, v, str, len};

	ck_assert_int_eq(ut_vb(&vb, ut_walk_arg), 0);
}

/* A row the way the storage agent's table has it: initiator, target, bytes, portal, window rates. */
static void ut_row(uint32_t sid, const char *initiator, const char *target, const char *ip, uint64_t rd, uint32_t avg)
{
	unsigned char a[4] = {0};

	if (ip)
		ck_assert_int_eq(inet_pton(AF_INET, ip, a), 1);
	ut_col(2, sid, CM_SNMPC_STRING, 0, initiator, strlen(initiator));
	ut_col(5, sid, CM_SNMPC_STRING, 0, target, strlen(target));
	ut_col(6, sid, CM_SNMPC_COUNTER64, rd, NULL, 0);
	ut_col(7, sid, CM_SNMPC_COUNTER64, 0, NULL, 0);
	ut_col(12, sid, CM_SNMPC_INTEGER, ip ? 1 : 0, NULL, 0);
	ut_col(13, sid, CM_SNMPC_STRING, 0, (const char *)a, ip ? 4 : 0);
	ut_col(14, sid, CM_SNMPC_UNSIGNED, ip ? 3260 : 0, NULL, 0);
	ut_col(15, sid, CM_SNMPC_UNSIGNED, avg * 2u, NULL, 0);
	ut_col(16, sid, CM_SNMPC_UNSIGNED, avg / 2u, NULL, 0);
	ut_col(17, sid, CM_SNMPC_UNSIGNED, avg, NULL, 0);
}

/* The name server polls the storage agent (no push at all): Host_1 and Host_2 on X at interface 36 become known
 * sessions with the storage agent's bytes and rates; a row without a portal is skipped; a poll that fails is
 * counted and keeps the sessions until they age out; a walk still in flight when the engine stops ends cleanly. */
START_TEST(poll_storage_agent)
{
	struct sa_redisc_storage_agent_cfg sa = {.peer = "udp:192.0.2.3:161",
	                                         .user = "sanctl",
	                                         .auth_passphrase = "auth-secret",
	                                         .priv_passphrase = "priv-secret",
	                                         .poll_interval = 5};
	struct sa_rediscover_config c = seed_config("dry-run", 0);
	char err[128] = "";
	const struct redisc_session *s;

	c.storage_agents = &sa;
	c.nstorage_agents = 1;
	redisc_poll_ops_register(&ut_poll_ops);
	ut_walks = 0;
	ck_assert_msg(redisc_start(&c, err, sizeof(err)) == 0, "start: %s", err);
	ck_assert_int_eq(ut_walks, 0); /* the first poll one interval after the start */
	ck_assert_ptr_nonnull(ut_timer_cb);
	ut_timer_cb(1, ut_timer_arg);
	ck_assert_int_eq(ut_walks, 1);
	ck_assert_str_eq(ut_walk_user, "sanctl");
	ut_row(1, HOST1, "X", IF36, 900u << 20, 9000);
	ut_row(2, HOST2, "X", IF36, 100u << 20, 500);
	ut_row(3, "iqn.2026-12.org.sanagent:host3", "X", NULL, 5, 1);
	ut_done(0, "", ut_walk_arg);
	ck_assert_uint_eq(redisc_session_count(), 2);
	ck_assert_uint_eq(redisc_counters()->polls, 1);
	ck_assert_uint_eq(redisc_counters()->received, 0); /* the counters of notifications */
	for (s = redisc_session_next(0); s; s = redisc_session_next(s->index)) {
		ck_assert_str_eq(s->source, "udp:192.0.2.3:161");
		if (strcmp(s->initiator, HOST1) == 0) {
			ck_assert_uint_eq(s->bytes, 900u << 20);
			ck_assert_uint_eq(s->m.v[2], 9000);
		} else {
			ck_assert_uint_eq(s->bytes, 100u << 20);
			ck_assert_uint_eq(s->m.v[0], 1000);
		}
	}
	/* The engine's group is there as if the storage agent had pushed it: a request for it is taken. */
	{
		struct redisc_feedback rq = fb_session("", "X", IF36, 0, 0);

		snprintf(rq.offender, sizeof(rq.offender), "%s", HOST1);
		ck_assert_int_eq(redisc_take(&rq, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
		ck_assert_str_eq(last_decision()->offender, HOST1);
	}

	/* The next poll times out: counted, sessions kept (they age out as unreported ones do). */
	ck_assert_ptr_nonnull(ut_timer_cb);
	ut_timer_cb(1, ut_timer_arg);
	ck_assert_int_eq(ut_walks, 2);
	ut_timer_cb(1, ut_timer_arg); /* still in flight: not asked twice */
	ck_assert_int_eq(ut_walks, 2);
	ut_done(-ETIMEDOUT, "timeout", ut_walk_arg);
	ck_assert_uint_eq(redisc_counters()->poll_failures, 1);
	ck_assert_uint_eq(redisc_session_count(), 2);

	/* Stopped with a walk in flight: its answer arrives later and is dropped. */
	ut_timer_cb(1, ut_timer_arg);
	ck_assert_int_eq(ut_walks, 3);
	redisc_stop();
	ck_assert_int_ne(ut_vb(NULL, ut_walk_arg), 0);
	ut_done(0, "", ut_walk_arg);
	redisc_poll_ops_register(NULL);
}
END_TEST

/* ---- the messages after a move (seed 000 step 66) ---------------------------------------------------------- */

struct ut_inform {
	char peer[80], user[32];
	uint32_t last; /* the notification's last sub-identifier: 5 sanRediscover, 6 sanRediscoverAlternative */
	size_t nvbs;
	char initiator[64], target[64];
	cm_snmpc_done_cb done;
	void *arg;
};
static struct ut_inform ut_informs[8];
static int ut_ninforms;

/* The agent's SNMP client stands behind this op; here the test holds each inform and answers it itself. */
static int ut_inform(const struct cm_snmpc_peer *p, const uint32_t *oid, size_t len, const struct cm_snmpc_vb *vbs,
                     size_t n, cm_snmpc_done_cb done, void *arg)
{
	struct ut_inform *u = &ut_informs[ut_ninforms++];

	snprintf(u->peer, sizeof(u->peer), "%s", p->peer);
	snprintf(u->user, sizeof(u->user), "%s", p->user);
	u->last = oid[len - 1];
	u->nvbs = n;
	snprintf(u->initiator, sizeof(u->initiator), "%.*s", (int)vbs[0].len, vbs[0].str);
	/* The target (alternative) follows the initiator in type 1, the old target and the kind in type 2. */
	snprintf(u->target, sizeof(u->target), "%.*s", (int)vbs[u->last == 5 ? 1 : 3].len,
	         vbs[u->last == 5 ? 1 : 3].str);
	u->done = done;
	u->arg = arg;
	return 0;
}
static const struct redisc_msg_ops ut_msg_ops = {.inform = ut_inform};

static char *stor36_38[] = {IF36 ":3260", IF38 ":3260"};
static char *stor36[] = {IF36 ":3260"};
static char *y_portals[] = {IF38 ":3260"};
static char *y_admits[] = {HOST1};

static void start_messages(char **portals, size_t nportals, int with_user, int with_y)
{
	struct sa_rediscover_config c = seed_config("dry-run", 0);
	struct sa_redisc_storage_agent_cfg sa = {.peer = "udp:10.0.0.2:161", .portals = portals, .nportals = nportals};
	struct sa_redisc_initiator_agent_cfg ag[] = {{HOST1, "10.0.1.1:1162"}, {HOST2, "10.0.1.2:1162"}};
	struct sa_redisc_target_cfg y = {
	    .name = "Y", .portals = y_portals, .nportals = 1, .initiators = y_admits, .ninitiators = 1};
	char err[128] = "";

	c.storage_agents = &sa;
	c.nstorage_agents = 1;
	c.initiator_agents = ag;
	c.ninitiator_agents = 2;
	if (with_user) {
		c.message_user.present = 1;
		c.message_user.name = "nsmsg";
		c.message_user.auth_passphrase = "msg-auth-secret";
		c.message_user.priv_passphrase = "msg-priv-secret";
	}
	if (with_y) {
		c.targets = &y;
		c.ntargets = 1;
	}
	ck_assert_msg(redisc_start(&c, err, sizeof(err)) == 0, "start: %s", err);
	redisc_msg_ops_register(&ut_msg_ops);
	ut_ninforms = 0;
	storage_reports();
}

/* A request naming Host_1, then the move's end as the move pipeline announces it. */
static const struct redisc_decision *moved(void)
{
	struct redisc_feedback req = fb_session("", "X", IF36, 0, 0);
	struct redisc_event ev = {.type = REDISC_EV_MOVED};

	snprintf(req.offender, sizeof(req.offender), "%s", HOST1);
	ck_assert_int_eq(redisc_take(&req, 1, 3, "storagent", "10.0.0.2:40000"), REDISC_DROP_NONE);
	ev.index = last_decision()->index;
	bus_publish(BUS_REDISCOVER, &ev);
	return last_decision();
}

START_TEST(messages_after_a_move)
{
	const struct redisc_decision *d;
	const struct redisc_agent *a;

	start_messages(stor36_38, 2, 1, 0);
	/* The configured agents, origin config. */
	for (a = redisc_agent_next(0); a; a = redisc_agent_next(a->index))
		ck_assert_int_eq(a->origin, REDISC_ORIGIN_CONFIG);
	d = moved();
	ck_assert_int_eq(ut_ninforms, 2);
	/* Type 1 to Host_2's agent: X is at the pool's address now; the offender is not told that. */
	ck_assert_str_eq(ut_informs[0].peer, "udp:10.0.1.2:1162");
	ck_assert_str_eq(ut_informs[0].user, "nsmsg");
	ck_assert_uint_eq(ut_informs[0].last, 5);
	ck_assert_uint_eq(ut_informs[0].nvbs, 8);
	ck_assert_str_eq(ut_informs[0].initiator, HOST2);
	ck_assert_str_eq(ut_informs[0].target, "X");
	/* Type 2 to Host_1's agent: X at the storage agent's other portal (interface 38). */
	ck_assert_str_eq(ut_informs[1].peer, "udp:10.0.1.1:1162");
	ck_assert_uint_eq(ut_informs[1].last, 6);
	ck_assert_uint_eq(ut_informs[1].nvbs, 10);
	ck_assert_str_eq(ut_informs[1].initiator, HOST1);
	ck_assert_str_eq(ut_informs[1].target, "X");
	ck_assert_str_eq(d->messages,
	                 "type1:" HOST2 "@10.0.1.2:1162=sent type2:" HOST1 "@10.0.1.1:1162=sent,alt=" IF38 ":3260");
	ck_assert_uint_eq(redisc_counters()->messages, 2);
	/* Host_2's agent acknowledges, Host_1's never answers: both recorded, and kept across a restart. */
	ut_informs[1].done(-ETIMEDOUT, "no answer", ut_informs[1].arg);
	ut_informs[0].done(0, NULL, ut_informs[0].arg);
	d = last_decision();
	ck_assert_str_eq(d->messages,
	                 "type1:" HOST2 "@10.0.1.2:1162=acked type2:" HOST1 "@10.0.1.1:1162=timeout,alt=" IF38 ":3260");
	for (a = redisc_agent_next(0); a; a = redisc_agent_next(a->index))
		ck_assert_uint_eq(a->messages, 1);
	redisc_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	state_open();
	start("dry-run", 0);
	ck_assert_str_eq(last_decision()->messages,
	                 "type1:" HOST2 "@10.0.1.2:1162=acked type2:" HOST1 "@10.0.1.1:1162=timeout,alt=" IF38 ":3260");
}
END_TEST

START_TEST(messages_other_target_and_what_cannot_go)
{
	const struct redisc_decision *d;

	/* The storage agent serves X at interface 36 only: the offender gets target Y, which its domain admits. */
	start_messages(stor36, 1, 1, 1);
	d = moved();
	ck_assert_int_eq(ut_ninforms, 2);
	ck_assert_str_eq(ut_informs[1].target, "Y");
	ck_assert_str_eq(d->messages,
	                 "type1:" HOST2 "@10.0.1.2:1162=sent type2:" HOST1 "@10.0.1.1:1162=sent,alt=Y@" IF38 ":3260");
	redisc_stop();

	/* Nothing to offer: no type 2; no message user: nothing goes out, and the row says why. */
	start_messages(stor36, 1, 0, 0);
	advance(301);
	d = moved();
	ck_assert_int_eq(ut_ninforms, 0);
	ck_assert_str_eq(d->messages, "type1:" HOST2 "@10.0.1.2:1162=no-sender type2:" HOST1 "=no-alternative");
	ck_assert_uint_eq(redisc_counters()->messages, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rediscover");
	TCase *rules = tcase_create("rules"), *engine = tcase_create("engine");

	tcase_add_test(rules, thresholds_and_directions);
	tcase_add_test(rules, hold_time_is_hysteresis);
	tcase_add_test(rules, cooldowns_and_hourly_cap);
	tcase_add_test(rules, competing_group_judgement);
	tcase_add_test(rules, offender_alternative);
	suite_add_tcase(s, rules);
	tcase_add_checked_fixture(engine, setup, teardown);
	tcase_add_test(engine, seed_scenario_dry_run);
	tcase_add_test(engine, forged_feedback_moves_nothing);
	tcase_add_test(engine, burst_of_requests_moves_once_per_cooldown);
	tcase_add_test(engine, pool_exhausted_and_act_are_recorded_as_failed);
	tcase_add_test(engine, history_and_cooldown_survive_restart);
	tcase_add_test(engine, sessions_age_out);
	tcase_add_test(engine, competing_groups_live);
	tcase_add_test(engine, pool_rows_and_restart);
	tcase_add_test(engine, pool_config_interface);
	tcase_add_test(engine, pool_and_agent_state_lines);
	tcase_add_test(engine, decision_update_persists);
	tcase_add_test(engine, poll_storage_agent);
	tcase_add_test(engine, messages_after_a_move);
	tcase_add_test(engine, messages_other_target_and_what_cannot_go);
	suite_add_tcase(s, engine);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
