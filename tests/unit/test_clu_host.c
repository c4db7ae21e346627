/* test_clu_host.c: ownership takes effect on a host.  engines/cluster/host.c against a CRT held by the test (who may
 * use what, the sessions to what was lost ending after the grace period and not before, CLU_EV_OWNERSHIP_LOST, a
 * target owned again in time keeping its sessions), and the connection manager's side of it
 * (engines/discovery/login.c: an admin-up login row to a target this host may not use is -EACCES, a row loaded from
 * the state file is kept logged out, a revoked row's team goes and comes back when the target is ours again).
 * tests/integration/cluster_host.sh runs the same against tgtd, snmpd and the real data plane. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/evloop.h"
#include "common/state.h"
#include "engines/cluster/clu_host.h"
#include "engines/cluster/clu_int.h"
#include "engines/discovery/login.h"
#include "iscsi/login_result.h"
#include "engines/registry.h"
#include "tests/unit/tmpdir.h"

/* ---- a loop whose timers the test fires itself ------------------------------------------------------------------ */
#define NTIMERS 32
static struct ut_timer {
	unsigned int id, ms;
	int repeat;
	cm_timer_cb cb;
	void *arg;
} timers[NTIMERS];
static unsigned int next_timer = 1;

#define EVLOOP_STUB_NO_TIMERS
#include "tests/unit/evloop_stub.h"

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	for (int i = 0; i < NTIMERS; i++)
		if (!timers[i].id) {
			timers[i] = (struct ut_timer){next_timer++, ms, repeat, cb, arg};
			return timers[i].id;
		}
	return 0;
}
void cm_ev_cancel(unsigned int id)
{
	for (int i = 0; i < NTIMERS; i++)
		if (timers[i].id == id)
			timers[i].id = 0;
}
/* The one-shot timers pending (host.c's grace timers; the manager's tick repeats). */
static int one_shots(unsigned int *ms)
{
	int n = 0;

	for (int i = 0; i < NTIMERS; i++)
		if (timers[i].id && !timers[i].repeat) {
			n++;
			if (ms)
				*ms = timers[i].ms;
		}
	return n;
}
static void fire_one_shots(void)
{
	for (int i = 0; i < NTIMERS; i++)
		if (timers[i].id && !timers[i].repeat) {
			struct ut_timer t = timers[i];

			timers[i].id = 0;
			t.cb(t.id, t.arg);
		}
}

/* ---- the CRT, held by the test (the model's reading functions host.c uses) -------------------------------------- */
#define ME 1u
#define OTHER 2u
#define T_MINE "iqn.2026-01.org.example:unit.a"   /* row 4: shared by both hosts */
#define T_THEIRS "iqn.2026-01.org.example:unit.b" /* row 5: dedicated to OTHER */
#define T_FREE "iqn.2026-01.org.example:nowhere"  /* not in the CRT */
static struct clu_res crt[8];
static size_t ncrt;
static uint32_t version_counter = 1;

static void row(uint32_t index, int type, uint32_t parent, const char *name, uint32_t number, int own,
                const uint32_t *owners, size_t n)
{
	struct clu_res *r = &crt[ncrt++];

	memset(r, 0, sizeof(*r));
	r->index = index;
	r->type = type;
	r->parent = parent;
	r->number = number;
	r->ownership = own;
	snprintf(r->name, sizeof(r->name), "%s", name);
	memcpy(r->owners, owners, n * sizeof(*owners));
	r->nowners = n;
	r->valid = 1;
}
static struct clu_res *mut(uint32_t index)
{
	for (size_t i = 0; i < ncrt; i++)
		if (crt[i].index == index)
			return &crt[i];
	return NULL;
}
static void own(uint32_t index, int ownership, uint32_t owner)
{
	struct clu_res *r = mut(index);

	r->ownership = ownership;
	r->owners[0] = owner;
	r->nowners = 1;
}
static void changed(void)
{
	struct clu_event ev = {.type = CLU_EV_CHANGED};

	ev.version.counter = ++version_counter;
	bus_publish(BUS_CLUSTER, &ev);
}

const struct clu_res *clu_res_get(uint32_t index)
{
	return mut(index);
}
int clu_res_next(uint32_t after, uint32_t *out)
{
	for (size_t i = 0; i < ncrt; i++)
		if (crt[i].index > after) {
			*out = crt[i].index;
			return 0;
		}
	return -ENOENT;
}
const struct clu_res *clu_res_find_name(int type, const char *name)
{
	for (size_t i = 0; i < ncrt; i++)
		if (crt[i].type == type && strcmp(crt[i].name, name) == 0)
			return &crt[i];
	return NULL;
}
void clu_version_get(struct clu_version *out)
{
	memset(out, 0, sizeof(*out));
	out->counter = version_counter;
}
struct clu_model clu_m; /* host.c counts in clu_m.ctr */
static int grace_s = 5;
int clu_ownership_grace(void)
{
	return grace_s;
}
/* The model's rule (model.c), over the test's CRT: owned by this host, or (for the target) one of its devices is. */
static int self_owns(const struct clu_res *r)
{
	for (size_t i = 0; i < r->nowners; i++)
		if (r->owners[i] == ME)
			return 1;
	return 0;
}
int clu_host_may_use_target(const char *iqn)
{
	const struct clu_res *c = clu_res_find_name(CLU_CONTROLLER, iqn);

	if (!c || self_owns(c))
		return 0;
	for (size_t i = 0; i < ncrt; i++)
		if (crt[i].type == CLU_DEVICE && crt[i].parent == c->index && self_owns(&crt[i]))
			return 0;
	return -EACCES;
}
int clu_host_may_use_lun(const char *iqn, uint32_t lun)
{
	const struct clu_res *c = clu_res_find_name(CLU_CONTROLLER, iqn);

	if (!c)
		return 0;
	for (size_t i = 0; i < ncrt; i++)
		if (crt[i].type == CLU_DEVICE && crt[i].parent == c->index && crt[i].number == lun)
			return self_owns(&crt[i]) ? 0 : -EACCES;
	return self_owns(c) ? 0 : -EACCES;
}

/* ---- the login world, as host.c sees it --------------------------------------------------------------------- */
static struct {
	char target[224];
	uint32_t lun;
	int live;
} sess[4];
static int nsess, ended, regained;

static int ut_end(const char *target, uint32_t lun)
{
	int n = 0;

	for (int i = 0; i < nsess; i++)
		if (sess[i].live && strcmp(sess[i].target, target) == 0 &&
		    (lun == CLU_ALL_LUNS || sess[i].lun == lun)) {
			sess[i].live = 0;
			n++;
		}
	ended += n;
	return n;
}
static void ut_sessions(void (*cb)(const char *target, uint32_t lun, void *arg), void *arg)
{
	for (int i = 0; i < nsess; i++)
		if (sess[i].live)
			cb(sess[i].target, sess[i].lun, arg);
}
static void ut_access_changed(void)
{
	regained++;
}
static const struct clu_host_ops ut_host_ops = {
    .end_sessions = ut_end, .sessions = ut_sessions, .access_changed = ut_access_changed};

static uint32_t lost_index;
static int lost_events;
static void on_cluster(int topic, const void *data, void *arg)
{
	const struct clu_event *ev = data;

	(void)topic, (void)arg;
	if (ev->type == CLU_EV_OWNERSHIP_LOST) {
		lost_events++;
		lost_index = ev->index;
	}
}

static char role_host[] = "host", role_unit[] = "unit";
static struct sa_cluster_config ccfg = {.role = role_host, .ownership_grace = 5};
static int cluster_sub;

static void host_setup(void)
{
	static const uint32_t me[] = {ME}, other[] = {OTHER}, both[] = {ME, OTHER};

	ncrt = 0;
	row(ME, CLU_HOST, 0, "iqn.2026-01.org.example:me", 0, CLU_DEDICATED, me, 1);
	row(OTHER, CLU_HOST, 0, "iqn.2026-01.org.example:other", 0, CLU_DEDICATED, other, 1);
	row(3, CLU_UNIT, 0, "unit", 0, CLU_SHARED, both, 2);
	row(4, CLU_CONTROLLER, 3, T_MINE, 1, CLU_SHARED, both, 2);
	row(5, CLU_CONTROLLER, 3, T_THEIRS, 2, CLU_DEDICATED, other, 1);
	row(6, CLU_DEVICE, 4, "", 1, CLU_SHARED, both, 2);
	row(7, CLU_DEVICE, 4, "", 2, CLU_DEDICATED, other, 1);
	memset(timers, 0, sizeof(timers));
	memset(sess, 0, sizeof(sess));
	nsess = ended = regained = lost_events = 0;
	lost_index = 0;
	memset(&clu_m, 0, sizeof(clu_m));
	grace_s = 5;
	cluster_sub = bus_subscribe(BUS_CLUSTER, on_cluster, NULL);
	ck_assert_int_gt(cluster_sub, 0);
	clu_host_ops_register(&ut_host_ops);
}
static void host_teardown(void)
{
	clu_host_stop();
	clu_host_ops_register(NULL);
	bus_unsubscribe(cluster_sub);
}
static void session(const char *target, uint32_t lun)
{
	snprintf(sess[nsess].target, sizeof(sess[nsess].target), "%s", target);
	sess[nsess].lun = lun;
	sess[nsess++].live = 1;
}

START_TEST(a_unit_role_ends_nothing)
{
	session(T_MINE, 1);
	ccfg.role = role_unit;
	ck_assert_int_eq(clu_host_start(&ccfg), 0);
	ccfg.role = role_host;
	own(4, CLU_DEDICATED, OTHER);
	own(6, CLU_DEDICATED, OTHER);
	changed();
	ck_assert_int_eq(one_shots(NULL), 0);
}
END_TEST

START_TEST(refusals_are_counted)
{
	clu_host_refused(T_THEIRS);
	clu_host_refused(T_THEIRS);
	ck_assert_uint_eq(clu_m.ctr.logins_refused, 2);
}
END_TEST

START_TEST(sessions_to_what_was_lost_end_after_the_grace_period)
{
	unsigned int ms = 0;

	session(T_MINE, 1);
	session(T_MINE, 3);
	ck_assert_int_eq(clu_host_start(&ccfg), 0);
	ck_assert_int_eq(one_shots(NULL), 0); /* nothing lost at start */
	own(4, CLU_DEDICATED, OTHER);
	own(6, CLU_DEDICATED, OTHER);
	changed();
	/* One grace timer per (target, LUN) with a session, the sessions still there. */
	ck_assert_int_eq(one_shots(&ms), 2);
	ck_assert_uint_eq(ms, 5000);
	ck_assert_int_eq(ended, 0);
	ck_assert_int_eq(regained, 2); /* at start and on the change */
	/* Another change meanwhile does not start the clock again. */
	changed();
	ck_assert_int_eq(one_shots(NULL), 2);
	fire_one_shots();
	ck_assert_int_eq(ended, 2);
	ck_assert_int_eq(lost_events, 2);
	ck_assert_uint_eq(lost_index, 4); /* the whole target was lost: its controller row */
	ck_assert_uint_eq(clu_m.ctr.ownership_lost, 2);
}
END_TEST

START_TEST(one_lun_lost_names_its_device)
{
	session(T_MINE, 1);
	ck_assert_int_eq(clu_host_start(&ccfg), 0);
	own(6, CLU_DEDICATED, OTHER); /* the controller stays shared */
	changed();
	ck_assert_int_eq(one_shots(NULL), 1);
	fire_one_shots();
	ck_assert_int_eq(ended, 1);
	ck_assert_uint_eq(lost_index, 6);
}
END_TEST

START_TEST(owned_again_in_time_keeps_the_sessions)
{
	static const uint32_t both[] = {ME, OTHER};

	session(T_MINE, 1);
	ck_assert_int_eq(clu_host_start(&ccfg), 0);
	own(4, CLU_DEDICATED, OTHER);
	own(6, CLU_DEDICATED, OTHER); /* its devices follow (granularity controller) */
	changed();
	ck_assert_int_eq(one_shots(NULL), 1);
	for (uint32_t r = 4; r <= 6; r += 2) {
		memcpy(mut(r)->owners, both, sizeof(both));
		mut(r)->nowners = 2;
		mut(r)->ownership = CLU_SHARED;
	}
	changed();
	fire_one_shots();
	ck_assert_int_eq(ended, 0);
	ck_assert_int_eq(lost_events, 0);
	ck_assert_int_eq(sess[0].live, 1);
}
END_TEST

START_TEST(stop_cancels_the_grace_timers)
{
	session(T_MINE, 1);
	ck_assert_int_eq(clu_host_start(&ccfg), 0);
	own(4, CLU_DEDICATED, OTHER);
	own(6, CLU_DEDICATED, OTHER); /* its devices follow (granularity controller) */
	changed();
	ck_assert_int_eq(one_shots(NULL), 1);
	clu_host_stop();
	ck_assert_int_eq(one_shots(NULL), 0);
}
END_TEST

/* ---- the connection manager's side ------------------------------------------------------------------------------ */
static int deny_theirs(const char *target)
{
	return strcmp(target, T_THEIRS) == 0 ? -EACCES : 0;
}
static int refusals;
static void count_refusal(const char *target)
{
	(void)target;
	refusals++;
}
static const struct disc_access_ops ut_access = {.may_use = deny_theirs, .refused = count_refusal};

#define NTEAMS 8
static int team_live[NTEAMS + 1];
static unsigned int next_team = 1;
static int t_running(void)
{
	return 1;
}
static int t_portal_ok(const char *p)
{
	(void)p;
	return 1;
}
static int t_create(const struct disc_team_req *r, unsigned int *team)
{
	(void)r;
	ck_assert_uint_le(next_team, NTEAMS);
	team_live[next_team] = 1;
	*team = next_team++;
	return 0;
}
static int t_destroy(unsigned int team)
{
	team_live[team] = 0;
	return 0;
}
static int t_paths(unsigned int team, struct disc_team_path *out, unsigned int max)
{
	if (!team_live[team])
		return -ENOENT;
	(void)max;
	out[0] = (struct disc_team_path){.up = 1, .login_result = 2};
	return 1;
}
static const struct disc_team_ops ut_teams = {
    .running = t_running, .portal_ok = t_portal_ok, .create = t_create, .destroy = t_destroy, .paths = t_paths};

static char ut_dir[256], ut_state_path[300];
static struct cm_state *ut_state;
static struct sa_discovery_config dcfg = {.login_initiator_name = "iqn.2026-01.org.example:me"};
static int theirs_allowed;
static int deny_theirs_unless_allowed(const char *target)
{
	return theirs_allowed ? 0 : deny_theirs(target);
}
static const struct disc_access_ops ut_access_toggle = {.may_use = deny_theirs_unless_allowed,
                                                        .refused = count_refusal};

static void state_open(void)
{
	int corrupt = 0;

	ck_assert_int_eq(cm_state_open(ut_state_path, &ut_state, &corrupt), 0);
	sa_engines_set_state(ut_state);
}
static void login_setup(void)
{
	ut_tmpdir_make(ut_dir, sizeof(ut_dir), "test_clu_host");
	snprintf(ut_state_path, sizeof(ut_state_path), "%s/state", ut_dir);
	state_open();
	memset(team_live, 0, sizeof(team_live));
	memset(timers, 0, sizeof(timers));
	next_team = 1;
	refusals = 0;
	theirs_allowed = 0;
	disc_team_ops_register(&ut_teams);
	disc_access_ops_register(&ut_access);
	ck_assert_int_eq(disc_conn_start(&dcfg), 0);
}
static void login_teardown(void)
{
	disc_conn_stop();
	disc_access_ops_register(NULL);
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	ut_tmpdir_remove(ut_dir);
}
static struct disc_login mk(uint32_t index, const char *target, int admin)
{
	struct disc_login l;

	memset(&l, 0, sizeof(l));
	l.index = index;
	snprintf(l.c.target, sizeof(l.c.target), "%s", target);
	l.c.lun = 1;
	l.c.persistent = 1;
	l.c.admin = admin;
	l.c.addr_type = DISC_ADDR_IPV4;
	memcpy(l.c.addr, (const unsigned char[]){127, 0, 0, 1}, 4);
	l.c.addr_len = 4;
	l.row = DISC_ROW_ACTIVE;
	l.nonvolatile = 1;
	return l;
}

START_TEST(a_login_to_a_target_not_ours_is_refused)
{
	struct disc_login l = mk(1, T_THEIRS, SA_ADMIN_UP), d = mk(2, T_THEIRS, SA_ADMIN_DOWN),
	                  m = mk(3, T_MINE, SA_ADMIN_UP);
	char why[160];

	ck_assert_int_eq(disc_login_validate(&l.c, why, sizeof(why)), -EACCES);
	ck_assert_ptr_nonnull(strstr(why, "not this host's"));
	ck_assert_int_eq(disc_login_put(&l), -EACCES);
	ck_assert_ptr_null(disc_login_find(1));
	ck_assert_int_eq(refusals, 2);
	/* A row that stays logged out may name it; logging in is what is refused. */
	ck_assert_int_eq(disc_login_put(&d), 0);
	ck_assert_uint_eq(disc_login_find(2)->team, 0);
	ck_assert_int_eq(disc_login_put(&m), 0);
	ck_assert_uint_ne(disc_login_find(3)->team, 0);
	ck_assert_int_eq(disc_login_may_use(T_THEIRS, 1), -EACCES);
	ck_assert_int_eq(disc_login_may_use(T_MINE, 1), 0);
}
END_TEST

START_TEST(a_stored_row_not_ours_is_kept_logged_out)
{
	struct disc_login l = mk(1, T_THEIRS, SA_ADMIN_UP);

	disc_access_ops_register(NULL);
	ck_assert_int_eq(disc_login_put(&l), 0);
	ck_assert_uint_ne(disc_login_find(1)->team, 0);
	disc_conn_stop();
	/* Restarted while the target is not ours: the row comes back, does not log in, and says why. */
	disc_access_ops_register(&ut_access);
	ck_assert_int_eq(disc_conn_start(&dcfg), 0);
	ck_assert_ptr_nonnull(disc_login_find(1));
	ck_assert_uint_eq(disc_login_find(1)->team, 0);
	ck_assert_int_eq(disc_login_find(1)->result, SP_LOGIN_AUTH_FAILURE);
	ck_assert_uint_eq(disc_login_find(1)->status_code, 0x0202);
}
END_TEST

static void count_wanted(const char *target, unsigned int lun, void *arg)
{
	ck_assert_str_eq(target, T_MINE);
	ck_assert_uint_eq(lun, 1);
	(*(int *)arg)++;
}

START_TEST(revoked_then_ours_again)
{
	struct disc_login l = mk(1, T_THEIRS, SA_ADMIN_UP), m = mk(2, T_MINE, SA_ADMIN_UP);
	int n = 0;

	disc_access_ops_register(&ut_access_toggle);
	theirs_allowed = 1;
	ck_assert_int_eq(disc_login_put(&l), 0);
	ck_assert_int_eq(disc_login_put(&m), 0);
	ck_assert_uint_ne(disc_login_find(1)->team, 0);
	theirs_allowed = 0;
	/* Only rows this host may no longer use end. */
	ck_assert_int_eq(disc_login_revoke(T_MINE, UINT32_MAX), 0);
	ck_assert_int_eq(disc_login_revoke(T_THEIRS, UINT32_MAX), 1);
	ck_assert_uint_eq(disc_login_find(1)->team, 0);
	ck_assert_uint_ne(disc_login_find(2)->team, 0);
	ck_assert_int_eq(disc_login_find(1)->oper, SA_OPER_DOWN);
	/* What host.c is told this host has sessions to: the row still ours only. */
	disc_login_foreach_wanted(count_wanted, &n);
	ck_assert_int_eq(n, 1);
	theirs_allowed = 1;
	disc_login_access_changed();
	/* The manager's tick logs it in again at once (the retry time was cleared). */
	for (int i = 0; i < NTIMERS; i++)
		if (timers[i].id && timers[i].repeat)
			timers[i].cb(timers[i].id, timers[i].arg);
	ck_assert_uint_ne(disc_login_find(1)->team, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clu_host");
	TCase *th = tcase_create("host"), *tl = tcase_create("logins");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(th, host_setup, host_teardown);
	tcase_add_test(th, a_unit_role_ends_nothing);
	tcase_add_test(th, refusals_are_counted);
	tcase_add_test(th, sessions_to_what_was_lost_end_after_the_grace_period);
	tcase_add_test(th, one_lun_lost_names_its_device);
	tcase_add_test(th, owned_again_in_time_keeps_the_sessions);
	tcase_add_test(th, stop_cancels_the_grace_timers);
	suite_add_tcase(s, th);
	tcase_add_checked_fixture(tl, login_setup, login_teardown);
	tcase_add_test(tl, a_login_to_a_target_not_ours_is_refused);
	tcase_add_test(tl, a_stored_row_not_ours_is_kept_logged_out);
	tcase_add_test(tl, revoked_then_ours_again);
	suite_add_tcase(s, tl);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
