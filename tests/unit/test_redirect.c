/* test_redirect.c: the redirect engine's model (routing, failover, drain, Fig. 8 plan, verbs) and tgtadm parsers. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engines/redirect/model.h"
#include "engines/redirect/redir_int.h"
#include "engines/redirect/redirect.h"
#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "tests/unit/free_port.h"

/* ---- an event loop that only records: the tests fire timers by hand ---- */
#define NT 64
static struct {
	cm_timer_cb cb;
	void *arg;
	int repeat;
	unsigned ms;
} timers[NT];

#define EVLOOP_STUB_NO_TIMERS
#define EVLOOP_STUB_WATCH_RC 0
#include "tests/unit/evloop_stub.h"

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	for (unsigned i = 1; i < NT; i++) {
		if (!timers[i].cb) {
			timers[i].cb = cb;
			timers[i].arg = arg;
			timers[i].repeat = repeat;
			timers[i].ms = ms;
			return i;
		}
	}
	return 0;
}
void cm_ev_cancel(unsigned int id)
{
	if (id && id < NT)
		memset(&timers[id], 0, sizeof(timers[id]));
}

/* Fires every pending one-shot timer (the manual rebalance). */
static void fire_oneshots(void)
{
	for (unsigned i = 1; i < NT; i++) {
		if (timers[i].cb && !timers[i].repeat) {
			cm_timer_cb cb = timers[i].cb;
			void *arg = timers[i].arg;

			memset(&timers[i], 0, sizeof(timers[i]));
			cb(i, arg);
		}
	}
}

static struct redir_event evs[256];
static int nev;
static int ev_sub; /* bus handle, for the teardown */
static void on_event(int topic, const void *data, void *arg)
{
	const struct redir_event *ev = data;

	(void)topic;
	(void)arg;
	if (nev < 256)
		evs[nev++] = *ev;
}
static int count_ev(int type)
{
	int n = 0;

	for (int i = 0; i < nev; i++)
		n += evs[i].type == type;
	return n;
}

static char *names_s[] = {"s1", "s2", "s3"};
static char *listen_on[1];
static char listen_buf[64];
static struct sa_redir_server_cfg srvs[3];
static struct sa_redir_resource_cfg ress[6];
static char tnames[6][64];
static struct sa_redirect_config cfg;

/* Seed 003 Fig. 8A: loads 100,100 | 150,200 | 300,400 on three servers of capacity 1. */
static void setup(void)
{
	char err[256] = "";
	struct sa_redirect_config *r = &cfg;

	memset(&cfg, 0, sizeof(cfg));
	memset(timers, 0, sizeof(timers));
	nev = 0;
	snprintf(listen_buf, sizeof(listen_buf), "127.0.0.1:%d", ut_free_port());
	listen_on[0] = listen_buf;
	r->listen = listen_on;
	r->nlisten = 1;
	r->threshold = 50;
	r->weight_bytes = 1;
	r->max_moves = 2;
	r->probe_interval_ms = 300;
	r->probe_timeout_ms = 500;
	r->load_interval = 1;
	r->max_connections = 16;
	r->login_timeout_ms = 1000;
	r->max_data_segment = 8192;
	for (int i = 0; i < 3; i++) {
		srvs[i].name = names_s[i];
		srvs[i].address = i == 2 ? "::1" : i == 1 ? "127.0.0.12" : "127.0.0.11";
		srvs[i].port = 3260 + i;
		srvs[i].capacity = 1;
		srvs[i].admin = "up";
		srvs[i].tgt_control = -1;
	}
	for (int i = 0; i < 6; i++) {
		snprintf(tnames[i], sizeof(tnames[i]), "iqn.2026-11.test:r%d", i + 1);
		ress[i].target = tnames[i];
		ress[i].server = names_s[i / 2];
		ress[i].pinned = 0;
	}
	r->servers = srvs;
	r->nservers = 3;
	r->resources = ress;
	r->nresources = 6;
	ev_sub = bus_subscribe(BUS_REDIRECT, on_event, NULL);
	ck_assert_int_gt(ev_sub, 0);
	ck_assert_msg(redir_engine_ops.start(&cfg, err, sizeof(err)) == 0, "start: %s", err);
	/* Health probes would fail here: the servers are fictitious.  Mark them up. */
	for (uint32_t s = 1; s <= 3; s++)
		redir_server_probed(s, 1, NULL);
	nev = 0;
}

static void teardown(void)
{
	redir_engine_ops.stop();
	bus_unsubscribe(ev_sub);
}

static const uint8_t isid[6] = {0x80, 1, 2, 3, 4, 5};

START_TEST(test_routing)
{
	char addr[96];
	struct tk_buf b;
	const struct redir_client *c;

	ck_assert_int_eq(redir_route_login("iqn.2026-11.test:r3", "iqn.i", isid, NULL, addr, sizeof(addr)),
	                 PDU_LOGIN_REDIRECT_TEMP);
	ck_assert_str_eq(addr, "127.0.0.12:3261,1");
	ck_assert_int_eq(redir_route_login("iqn.2026-11.test:r5", "iqn.i", isid, NULL, addr, sizeof(addr)),
	                 PDU_LOGIN_REDIRECT_TEMP);
	ck_assert_str_eq(addr, "[::1]:3262,1");
	ck_assert_int_eq(redir_route_login("iqn.2026-11.test:nope", "iqn.i", isid, NULL, addr, sizeof(addr)),
	                 PDU_LOGIN_NOT_FOUND);
	ck_assert_uint_eq(redir_counters()->redirects, 2);
	ck_assert_uint_eq(redir_counters()->rejects, 1);
	ck_assert_uint_eq(redir_resource_find(3)->redirects, 1);
	/* The same session logging in again updates its row. */
	redir_route_login("iqn.2026-11.test:r3", "iqn.i", isid, NULL, addr, sizeof(addr));
	c = redir_client_next(0);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->target, "iqn.2026-11.test:r3");
	ck_assert_uint_eq(c->logins, 2);
	ck_assert_uint_eq(c->server, 2);
	/* Single system image: every resource at the portal's own address. */
	tk_buf_init_dyn(&b, 1 << 20);
	ck_assert_int_eq(redir_sendtargets(&b, "10.0.0.1:3260,1"), 0);
	ck_assert_ptr_nonnull(
	    memmem(b.buf, b.len, "TargetName=iqn.2026-11.test:r6\0TargetAddress=10.0.0.1:3260,1", 60));
	tk_buf_free(&b);
	/* Server down: 0x0301 until its resources move (none can: all others down too). */
	redir_server_probed(1, 0, "x");
	redir_server_probed(2, 0, "x");
	redir_server_probed(3, 0, "x");
	ck_assert_int_eq(redir_route_login("iqn.2026-11.test:r3", "iqn.i", isid, NULL, addr, sizeof(addr)),
	                 PDU_LOGIN_SERVICE_UNAVAILABLE);
	/* The first server back takes every orphan. */
	redir_server_probed(2, 1, NULL);
	for (uint32_t r = 1; r <= 6; r++)
		ck_assert_uint_eq(redir_resource_find(r)->server, 2);
	ck_assert_int_eq(count_ev(REDIR_EV_SERVER_DOWN), 3);
	ck_assert_int_eq(count_ev(REDIR_EV_SERVER_UP), 1);
}
END_TEST

START_TEST(test_failover_only_its_resources)
{
	redir_server_probed(3, 0, "connect: refused");
	ck_assert_int_eq(redir_server_find(3)->oper, REDIR_OPER_DOWN);
	ck_assert_str_eq(redir_server_find(3)->last_error, "connect: refused");
	for (uint32_t r = 1; r <= 4; r++)
		ck_assert_uint_eq(redir_resource_find(r)->server, (r + 1) / 2);
	ck_assert_uint_ne(redir_resource_find(5)->server, 3);
	ck_assert_uint_ne(redir_resource_find(6)->server, 3);
	ck_assert_uint_ne(redir_resource_find(5)->server, redir_resource_find(6)->server);
	ck_assert_int_eq(count_ev(REDIR_EV_RESOURCE_REMAPPED), 2);
	ck_assert_int_eq(count_ev(REDIR_EV_REBALANCED), 1);
	ck_assert_int_eq(redir_plan_next(0)->trigger, REDIR_TRIG_FAILOVER);
	ck_assert_uint_eq(redir_plan_next(0)->nmoves, 2);
	ck_assert_uint_eq(redir_server_find(3)->nresources, 0);
}
END_TEST

START_TEST(test_drain_and_move)
{
	ck_assert_int_eq(redir_server_validate_admin(2, 5), -EINVAL);
	ck_assert_int_eq(redir_server_validate_admin(9, 2), -ENOENT);
	ck_assert_int_eq(redir_server_set_admin(2, REDIR_ADMIN_DRAIN), 0);
	ck_assert_uint_eq(redir_server_find(2)->nresources, 0);
	ck_assert_int_eq(redir_plan_next(0)->trigger, REDIR_TRIG_DRAIN);
	/* Nothing may be moved onto a drained server; elsewhere is fine. */
	ck_assert_int_eq(redir_resource_validate_move(1, 2), -EBUSY);
	ck_assert_int_eq(redir_resource_validate_move(1, 7), -ENOENT);
	ck_assert_int_eq(redir_resource_move(1, 3), 0);
	ck_assert_uint_eq(redir_resource_find(1)->server, 3);
	ck_assert_int_eq(evs[nev - 1].type, REDIR_EV_RESOURCE_REMAPPED);
	ck_assert_uint_eq(evs[nev - 1].a, 1);
	ck_assert_uint_eq(evs[nev - 1].c, 3);
	/* Config rows are not destroyed over SNMP. */
	ck_assert_int_eq(redir_server_destroy(1), -EPERM);
	ck_assert_int_eq(redir_resource_destroy(1), -EPERM);
}
END_TEST

START_TEST(test_fig8_manual_plan)
{
	static const uint64_t loads[6] = {100, 100, 150, 200, 300, 400};
	const struct redir_plan_record *p;

	for (uint32_t r = 1; r <= 6; r++)
		ck_assert_int_eq(redir_resource_set_load(r, loads[r - 1]), 0);
	ck_assert_uint_eq(redir_server_find(3)->load, 700);
	/* SET loads alone never plan: only the trigger does. */
	ck_assert_ptr_null(redir_plan_next(0));
	ck_assert_int_eq(redir_rebalance_now(), 0);
	fire_oneshots();
	p = redir_plan_next(0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->trigger, REDIR_TRIG_MANUAL);
	ck_assert_uint_le(p->nmoves, 2);
	ck_assert_uint_eq(p->max_before, 700);
	ck_assert_uint_eq(p->max_after, 450);
	ck_assert_uint_le(redir_server_find(1)->load, 450);
	ck_assert_uint_le(redir_server_find(2)->load, 450);
	ck_assert_uint_le(redir_server_find(3)->load, 450);
}
END_TEST

START_TEST(test_snmp_rows)
{
	struct redir_server_spec s = {.name = "s4",
	                              .host = "127.0.0.14",
	                              .port = 3260,
	                              .capacity = 2,
	                              .admin = 1,
	                              .storage = REDIR_ST_VOLATILE,
	                              .tgt_control = -1};
	struct redir_resource_spec r = {.target = "iqn.2026-11.test:new", .server = 0, .storage = REDIR_ST_VOLATILE};
	uint32_t si = redir_server_next_index(), ri = redir_resource_next_index();

	ck_assert_uint_eq(si, 4);
	ck_assert_uint_eq(ri, 7);
	ck_assert_int_eq(redir_server_validate(1, &s), -EEXIST);
	strcpy(s.name, "s1");
	ck_assert_int_eq(redir_server_validate(si, &s), -EEXIST);
	strcpy(s.name, "s4");
	s.capacity = 0;
	ck_assert_int_eq(redir_server_validate(si, &s), -ERANGE);
	s.capacity = 2;
	strcpy(s.host, "example.org");
	ck_assert_int_eq(redir_server_validate(si, &s), -EINVAL);
	strcpy(s.host, "127.0.0.14");
	ck_assert_int_eq(redir_server_create(si, &s), 0);
	ck_assert_uint_eq(redir_server_next_index(), 5);
	/* Placed on the server with the fewest resources per capacity: the new one. */
	ck_assert_int_eq(redir_resource_create(ri, &r), 0);
	ck_assert_uint_eq(redir_resource_find(ri)->server, si);
	ck_assert_int_eq(redir_resource_validate(8, &r), -EEXIST);
	strcpy(r.target, "bad name");
	ck_assert_int_eq(redir_resource_validate(8, &r), -EINVAL);
	ck_assert_int_eq(redir_resource_destroy(ri), 0);
	ck_assert_ptr_null(redir_resource_find(ri));
	ck_assert_int_eq(redir_server_destroy(si), 0);
	ck_assert_ptr_null(redir_server_find(si));
	ck_assert_uint_eq(redir_server_next_index(), 5); /* never reused while running */
}
END_TEST

/* ---- tgtadm output parsers ---------------------------------------------- */

static const char show_out[] = "Target 1: iqn.2026-11.org.sanagent.lab:r1\n"
                               "    System information:\n"
                               "        Driver: iscsi\n"
                               "    I_T nexus information:\n"
                               "        I_T nexus: 2\n"
                               "            Initiator: iqn.x:client alias: none\n"
                               "            Connection: 0\n"
                               "                IP Address: 127.0.0.1\n"
                               "        I_T nexus: 5\n"
                               "            Initiator: iqn.x:other alias: none\n"
                               "            Connection: 1\n"
                               "    LUN information:\n"
                               "        LUN: 0\n"
                               "Target 12: iqn.2026-11.org.sanagent.lab:r12\n"
                               "    I_T nexus information:\n"
                               "        I_T nexus: 7\n"
                               "            Connection: 0\n";
static const char stat_out[] =
    "tgt lun sid rd_subm(bytes,cmds) rd_done(bytes,cmds) wr_subm(bytes,cmds) wr_done(bytes,cmds) errs\n"
    "  1   0   3            0      0            0      0            0      0            0      0    0\n"
    "  1   1   3    232394784  56738    232386592  56736         4096      1         4096      1    1\n";

/* Seed 003 [0088]: a spare takes nothing until a server fails, then all of that server's resources. */
START_TEST(test_hot_spare)
{
	uint32_t n1, n2;

	ck_assert_int_eq(redir_server_set_admin(3, REDIR_ADMIN_SPARE), 0);
	ck_assert_uint_eq(redir_server_find(3)->nresources, 0); /* handed on, as for a drain */
	ck_assert_int_eq(redir_resource_validate_move(1, 3), -EBUSY);
	ck_assert_int_eq(redir_run_rebalance(REDIR_TRIG_MANUAL, true, true), 0);
	ck_assert_uint_eq(redir_server_find(3)->nresources, 0);
	n1 = redir_server_find(1)->nresources;
	n2 = redir_server_find(2)->nresources;
	nev = 0;
	redir_server_probed(1, 0, "connect: refused");
	ck_assert_uint_eq(redir_resource_find(1)->server, 3);
	ck_assert_uint_eq(redir_resource_find(2)->server, 3);
	ck_assert_uint_eq(redir_server_find(3)->nresources, n1); /* all of them, none spread to s2 */
	ck_assert_uint_eq(redir_server_find(2)->nresources, n2);
	ck_assert_uint_eq(redir_server_find(3)->spare_for, 1);
	ck_assert_int_eq(count_ev(REDIR_EV_RESOURCE_REMAPPED), (int)n1);
	ck_assert_int_eq(count_ev(REDIR_EV_RESOURCE_STRANDED), 0);
	/* Engaged, it serves like any server; with nothing left it is on standby again. */
	for (uint32_t r = 1; r <= 6; r++)
		if (redir_resource_find(r)->server == 3)
			ck_assert_int_eq(redir_resource_move(r, 2), 0);
	ck_assert_uint_eq(redir_server_find(3)->spare_for, 0);
	ck_assert_int_eq(redir_resource_validate_move(1, 3), -EBUSY);
}
END_TEST

START_TEST(test_fail_policy)
{
	ck_assert_int_eq(redir_resource_set_pinned(3, 1), 0);
	ck_assert_int_eq(redir_resource_set_pinned(4, 1), 0);
	ck_assert_int_eq(redir_resource_validate_fail_policy(4, 3), -EINVAL);
	ck_assert_int_eq(redir_resource_validate_fail_policy(99, 1), -ENOENT);
	ck_assert_int_eq(redir_resource_set_fail_policy(4, REDIR_FAIL_MOVE), 0);
	nev = 0;
	redir_server_probed(2, 0, "connect: refused");
	ck_assert_uint_eq(redir_resource_find(3)->server, 2); /* pinned, stay */
	ck_assert_uint_ne(redir_resource_find(4)->server, 2);
	ck_assert_int_eq(redir_resource_find(4)->pinned, 1);
	ck_assert_int_eq(count_ev(REDIR_EV_RESOURCE_STRANDED), 1);
	/* Once, not at every later failover round. */
	redir_heal_orphans();
	ck_assert_int_eq(count_ev(REDIR_EV_RESOURCE_STRANDED), 1);
	ck_assert_int_eq(redir_resource_set_fail_policy(3, REDIR_FAIL_MOVE), 0);
	ck_assert_uint_ne(redir_resource_find(3)->server, 2);
}
END_TEST

START_TEST(test_portal_creds)
{
	struct redir_cred_spec c = {
	    .index = 1, .user = "alice", .secret = "alice-secret-0123", .storage = REDIR_ST_VOLATILE};
	char secret[REDIR_CHAP_SECRET_MAX + 1];

	ck_assert_int_eq(redir_cred_put(&c), 0);
	ck_assert_ptr_nonnull(redir_cred_find(1));
	ck_assert_uint_eq(redir_cred_next_index(), 2);
	ck_assert_int_eq(redir_cred_secret("alice", "iqn.x:any", secret, sizeof(secret)), 17);
	ck_assert_str_eq(secret, "alice-secret-0123");
	ck_assert_int_eq(redir_cred_secret("bob", "iqn.x:any", secret, sizeof(secret)), -ENOENT);
	c.index = 2;
	ck_assert_int_eq(redir_cred_validate(&c), -EEXIST); /* the user is row 1's */
	snprintf(c.user, sizeof(c.user), "bob");
	snprintf(c.secret, sizeof(c.secret), "short");
	ck_assert_int_eq(redir_cred_validate(&c), -EMSGSIZE);
	snprintf(c.secret, sizeof(c.secret), "with a space 123");
	ck_assert_int_eq(redir_cred_validate(&c), -EINVAL);
	snprintf(c.secret, sizeof(c.secret), "bob-secret-456789");
	snprintf(c.initiator, sizeof(c.initiator), "iqn.x:bob");
	ck_assert_int_eq(redir_cred_put(&c), 0);
	ck_assert_int_eq(redir_cred_secret("bob", "iqn.x:other", secret, sizeof(secret)), -EACCES);
	ck_assert_int_eq(redir_cred_secret("bob", "iqn.x:bob", secret, sizeof(secret)), 17);
	ck_assert_int_eq(redir_cred_delete(1), 0);
	ck_assert_int_eq(redir_cred_delete(1), -ENOENT);
	/* An index is not handed out again while the agent runs. */
	ck_assert_uint_eq(redir_cred_next_index(), 3);
}
END_TEST

START_TEST(test_tgt_parsers)
{
	struct tgtc_target *t;
	struct tgtc_counter *c;
	struct tgtc_conn *k;
	size_t n;

	ck_assert_int_eq(tgtc_parse_show(show_out, sizeof(show_out) - 1, &t, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(t[1].tid, 12);
	ck_assert_str_eq(t[1].name, "iqn.2026-11.org.sanagent.lab:r12");
	free(t);
	ck_assert_int_eq(tgtc_parse_stat(stat_out, sizeof(stat_out) - 1, &c, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(c[1].sid, 3);
	ck_assert_uint_eq(c[1].lun, 1);
	ck_assert_uint_eq(c[1].bytes, 232386592ull + 4096);
	free(c);
	ck_assert_int_eq(tgtc_parse_conns(show_out, sizeof(show_out) - 1, "iqn.2026-11.org.sanagent.lab:r1", &k, &n),
	                 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(k[0].tid, 1);
	ck_assert_uint_eq(k[0].sid, 2);
	ck_assert_uint_eq(k[1].sid, 5);
	ck_assert_uint_eq(k[1].cid, 1);
	free(k);
	/* A prefix of another name is not that target. */
	ck_assert_int_eq(tgtc_parse_conns(show_out, sizeof(show_out) - 1, "iqn.2026-11.org.sanagent.lab:r", &k, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redirect");
	TCase *tc = tcase_create("engine");
	TCase *tp = tcase_create("tgtadm");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_routing);
	tcase_add_test(tc, test_failover_only_its_resources);
	tcase_add_test(tc, test_drain_and_move);
	tcase_add_test(tc, test_fig8_manual_plan);
	tcase_add_test(tc, test_snmp_rows);
	tcase_add_test(tc, test_hot_spare);
	tcase_add_test(tc, test_fail_policy);
	tcase_add_test(tc, test_portal_creds);
	suite_add_tcase(s, tc);
	tcase_add_test(tp, test_tgt_parsers);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
