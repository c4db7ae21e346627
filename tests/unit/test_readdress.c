/* test_readdress.c: an initiator's reaction to rediscovery messages (engines/discovery/readdress.c, login.c) with
 * seed 000's Fig. 2 as vectors: who may steer the logins, which rows and team paths move where, type 2's old portal
 * avoided for good (also after a restart).  The data plane is the connection manager's team ops, held by the test;
 * tests/integration/rediscover_react.sh runs the same against tgtd and the real data plane. */
#define _GNU_SOURCE /* nftw */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/evloop.h"
#include "common/state.h"
#include "engines/discovery/login.h"
#include "engines/discovery/readdress.h"
#include "engines/registry.h"
#include "tests/unit/tmpdir.h"

/* ---- a loop whose timers never fire (the manager's tick is not needed: verbs reconcile at once) ---------------- */
#define EVLOOP_STUB_TIMER_ID 1
#include "tests/unit/evloop_stub.h"

/* ---- the data plane's teams, as the connection manager sees them ---------------------------------------------- */
#define NTEAMS 8
static struct ut_team {
	int live;
	char target[224];
	unsigned int npaths;
	char portal[4][72];
} teams[NTEAMS + 1];
static unsigned int next_team = 1, repaths;

static int ut_running(void)
{
	return 1;
}
static int ut_portal_ok(const char *p)
{
	(void)p;
	return 1;
}
static int ut_create(const struct disc_team_req *r, unsigned int *team)
{
	struct ut_team *t = &teams[next_team];

	ck_assert_uint_le(next_team, NTEAMS);
	memset(t, 0, sizeof(*t));
	t->live = 1;
	snprintf(t->target, sizeof(t->target), "%s", r->target);
	t->npaths = r->npaths;
	for (unsigned int i = 0; i < r->npaths && i < 4; i++)
		snprintf(t->portal[i], sizeof(t->portal[i]), "%s", r->path[i].portal);
	*team = next_team++;
	return 0;
}
static int ut_destroy(unsigned int team)
{
	teams[team].live = 0;
	return 0;
}
static int ut_paths(unsigned int team, struct disc_team_path *out, unsigned int max)
{
	if (!teams[team].live)
		return -ENOENT;
	for (unsigned int i = 0; i < teams[team].npaths && i < max; i++)
		out[i] = (struct disc_team_path){.up = 1, .login_result = 2};
	return (int)teams[team].npaths;
}
static int ut_repath(unsigned int team, const char *from, const char *to)
{
	if (!teams[team].live)
		return -ENOENT;
	for (unsigned int i = 0; i < teams[team].npaths; i++)
		if (strcmp(teams[team].portal[i], from) == 0) {
			snprintf(teams[team].portal[i], sizeof(teams[team].portal[i]), "%s", to);
			repaths++;
			return 0;
		}
	return -ENOENT;
}
static const struct disc_team_ops ut_ops = {
    .running = ut_running,
    .portal_ok = ut_portal_ok,
    .create = ut_create,
    .destroy = ut_destroy,
    .paths = ut_paths,
    .repath = ut_repath,
};

/* ---- seed 000 Fig. 2 -------------------------------------------------------------------------------------------- */
#define ME "iqn.2026-01.org.example:host2"
#define X "iqn.2026-01.org.example:storage.x"
#define Y "iqn.2026-01.org.example:storage.y"
#define IF36 "10.1.0.3:3260"
#define IF38 "9.3.1.52:3260"
#define POOL "10.1.0.4:3260"

static char ut_dir[256], ut_state_path[300];
static struct cm_state *ut_state;
static char *users[] = {"nsmsg"};
static struct sa_discovery_config cfg = {.login_initiator_name = ME,
                                         .chap_secret_min = 12,
                                         .chap_secret_max = 16,
                                         .rediscover_users = users,
                                         .nrediscover_users = 1};

static void state_open(void)
{
	int corrupt = 0;

	ck_assert_int_eq(cm_state_open(ut_state_path, &ut_state, &corrupt), 0);
	sa_engines_set_state(ut_state);
}

static void setup(void)
{
	ut_tmpdir_make(ut_dir, sizeof(ut_dir), "test_readdress");
	snprintf(ut_state_path, sizeof(ut_state_path), "%s/state", ut_dir);
	state_open();
	memset(teams, 0, sizeof(teams));
	next_team = 1;
	repaths = 0;
	disc_team_ops_register(&ut_ops);
	ck_assert_int_eq(disc_conn_start(&cfg), 0);
}

static void teardown(void)
{
	disc_conn_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	ut_tmpdir_remove(ut_dir);
}

/* Login INDEX to TARGET at its own portal (NULL: every discovered portal), stored, admin up. */
static void login(uint32_t index, const char *target, const unsigned char *a4)
{
	struct disc_login l;

	memset(&l, 0, sizeof(l));
	l.index = index;
	snprintf(l.c.target, sizeof(l.c.target), "%s", target);
	if (a4) {
		l.c.addr_type = DISC_ADDR_IPV4;
		memcpy(l.c.addr, a4, 4);
		l.c.addr_len = 4;
		l.c.port = 3260;
	}
	l.c.lun = 1;
	l.c.persistent = 1;
	l.c.admin = SA_ADMIN_UP;
	l.row = DISC_ROW_ACTIVE;
	l.nonvolatile = 1;
	ck_assert_int_eq(disc_login_put(&l), 0);
}

static struct redisc_msg msg(int type, const char *target, const char *to, const char *old, const char *old_target)
{
	struct redisc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	snprintf(m.initiator, sizeof(m.initiator), "%s", ME);
	snprintf(m.target, sizeof(m.target), "%s", target);
	ck_assert_int_eq(redisc_msg_portal_parse(to, &m.portal), 0);
	if (old)
		ck_assert_int_eq(redisc_msg_portal_parse(old, &m.old), 0);
	if (type == 2) {
		snprintf(m.old_target, sizeof(m.old_target), "%s", old_target);
		m.alt_kind = strcmp(target, old_target) == 0 ? REDISC_MSG_OTHER_PORTAL : REDISC_MSG_OTHER_TARGET;
	}
	return m;
}

static const unsigned char if36[4] = {10, 1, 0, 3}, if38[4] = {9, 3, 1, 52};

START_TEST(only_listed_users_steer)
{
	struct redisc_msg m = msg(1, X, POOL, IF36, NULL);
	const struct disc_redisc_counters *c = disc_readdress_counters();

	login(1, X, if36);
	ck_assert_int_eq(disc_readdress_take(&m, 2, "public", "10.0.0.42:40000"), -EACCES);
	ck_assert_int_eq(disc_readdress_take(&m, 3, "monitor", "10.0.0.42:40000"), -EACCES);
	ck_assert_int_eq(disc_readdress_take(NULL, 3, "nsmsg", "10.0.0.42:40000"), -EBADMSG);
	snprintf(m.initiator, sizeof(m.initiator), "iqn.2026-01.org.example:host1");
	ck_assert_int_eq(disc_readdress_take(&m, 3, "nsmsg", "10.0.0.42:40000"), -ENOENT);
	ck_assert_uint_eq(c->received, 4);
	ck_assert_uint_eq(c->dropped_unauthorized, 2);
	ck_assert_uint_eq(c->dropped_malformed, 1);
	ck_assert_uint_eq(c->not_ours, 1);
	ck_assert_uint_eq(c->type1 + c->type2 + c->logins_moved, 0);
	ck_assert_int_eq(disc_login_find(1)->c.addr[3], 3); /* nothing moved */
}
END_TEST

START_TEST(type1_moves_the_rows_at_the_old_address)
{
	struct redisc_msg m = msg(1, X, POOL, IF36, NULL);
	const struct disc_login *l;
	unsigned int team;

	login(1, X, if36); /* at the old address: moves */
	login(2, X, if38); /* X at interface 38 too: stays */
	login(3, Y, if36); /* another target: stays */
	team = disc_login_find(1)->team;
	ck_assert_int_eq(disc_readdress_take(&m, 3, "nsmsg", "10.0.0.42:40000"), 1);
	l = disc_login_find(1);
	ck_assert_int_eq(l->c.addr[3], 4);
	/* The same team: its path logs in at the new address. */
	ck_assert_uint_eq(l->team, team);
	ck_assert_str_eq(teams[team].portal[0], POOL);
	ck_assert_uint_eq(repaths, 1);
	ck_assert_int_eq(disc_login_find(2)->c.addr[0], 9);
	ck_assert_int_eq(disc_login_find(3)->c.addr[3], 3);
	ck_assert_uint_eq(disc_readdress_counters()->type1, 1);
	ck_assert_uint_eq(disc_readdress_counters()->logins_moved, 1);
	/* Again (a resent inform): nothing left at the old address. */
	ck_assert_int_eq(disc_readdress_take(&m, 3, "nsmsg", "10.0.0.42:40000"), 0);
	/* Without the old address: every row of X not at the new one moves (here login 2). */
	m.old.type = 0;
	ck_assert_int_eq(disc_readdress_take(&m, 3, "nsmsg", "10.0.0.42:40000"), 1);
	ck_assert_int_eq(disc_login_find(2)->c.addr[3], 4);
	/* The rows' new portals are in the state file: a restart finds them there. */
	disc_conn_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	state_open();
	ck_assert_int_eq(disc_conn_start(&cfg), 0);
	ck_assert_int_eq(disc_login_find(1)->c.addr[3], 4);
}
END_TEST

START_TEST(type2_avoids_the_old_portal_for_good)
{
	struct redisc_msg m = msg(2, X, IF38, IF36, X);
	unsigned int team;

	login(1, X, if36);
	team = disc_login_find(1)->team;
	ck_assert_uint_gt(team, 0);
	ck_assert_int_eq(disc_readdress_take(&m, 3, "nsmsg", "10.0.0.42:40000"), 1);
	ck_assert_str_eq(teams[team].portal[0], IF38);
	ck_assert_uint_eq(disc_login_find(1)->team, team);
	ck_assert_int_eq(disc_login_avoided(X, IF36), 1);
	ck_assert_int_eq(disc_login_avoided(Y, IF36), 0);
	/* otherTarget: the login becomes one to Y at 38, a new team (another LU). */
	login(2, X, if36);
	team = disc_login_find(2)->team;
	m = msg(2, Y, IF38, IF36, X);
	ck_assert_int_eq(disc_readdress_take(&m, 3, "nsmsg", "10.0.0.42:40000"), 1);
	ck_assert_str_eq(disc_login_find(2)->c.target, Y);
	ck_assert_int_eq(disc_login_find(2)->c.addr[0], 9);
	ck_assert_uint_ne(disc_login_find(2)->team, team);
	ck_assert_int_eq(teams[team].live, 0);
	ck_assert_str_eq(teams[disc_login_find(2)->team].target, Y);
	ck_assert_uint_eq(disc_readdress_counters()->type2, 2);
	ck_assert_uint_eq(disc_login_avoid_count(), 1);
	/* Remembered across a restart. */
	disc_conn_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
	state_open();
	ck_assert_int_eq(disc_conn_start(&cfg), 0);
	ck_assert_int_eq(disc_login_avoided(X, IF36), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("readdress");
	TCase *tc = tcase_create("reaction");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, only_listed_users_steer);
	tcase_add_test(tc, type1_moves_the_rows_at_the_old_address);
	tcase_add_test(tc, type2_avoids_the_old_portal_for_good);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
