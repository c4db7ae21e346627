/* test_remote.c: resources and loads from the servers' agents (engines/redirect/remote.c) with a scripted SNMP client.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engines/redirect/redir_int.h"
#include "engines/redirect/redirect.h"
#include "common/evloop.h"
#include "tests/unit/free_port.h"

/* ---- an event loop that only records timers ---------------------------- */
#define NT 64
static struct {
	cm_timer_cb cb;
	void *arg;
	int repeat;
} timers[NT];

#define EVLOOP_STUB_NO_TIMERS
#define EVLOOP_STUB_WATCH_RC 0
#include "tests/unit/evloop_stub.h"

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	(void)ms;
	for (unsigned i = 1; i < NT; i++) {
		if (!timers[i].cb) {
			timers[i].cb = cb;
			timers[i].arg = arg;
			timers[i].repeat = repeat;
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

/* ---- a scripted SNMP client: requests wait until the test answers -------- */
struct fake_req {
	char peer[64];
	uint32_t root[32];
	size_t rootlen;
	int set;
	long value;
	cm_snmpc_vb_cb vb;
	cm_snmpc_done_cb done;
	void *arg;
	int open;
};
static struct fake_req reqs[64];
static int nreqs;

static int fake_walk(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
                     cm_snmpc_done_cb done, void *arg)
{
	struct fake_req *r = &reqs[nreqs++];

	ck_assert_int_lt(nreqs, 64);
	memset(r, 0, sizeof(*r));
	snprintf(r->peer, sizeof(r->peer), "%s", p->peer);
	memcpy(r->root, root, rootlen * sizeof(uint32_t));
	r->rootlen = rootlen;
	r->vb = vb;
	r->done = done;
	r->arg = arg;
	r->open = 1;
	return 0;
}

static int fake_set(const struct cm_snmpc_peer *p, const uint32_t *oid, size_t oidlen, long value,
                    cm_snmpc_done_cb done, void *arg)
{
	int rc = fake_walk(p, oid, oidlen, NULL, done, arg);

	ck_assert_msg(p->user && p->auth_pass && p->priv_pass, "a SET without the v3 user");
	reqs[nreqs - 1].set = 1;
	reqs[nreqs - 1].value = value;
	return rc;
}

static void fake_cancel(void)
{
	for (int i = 0; i < nreqs; i++)
		reqs[i].open = 0;
}

static const struct redir_agent_ops fake_ops = {.walk = fake_walk, .set_int = fake_set, .cancel_all = fake_cancel};

static const uint32_t tgt_entry[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1, 13, 1};
static const uint32_t sess_entry[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1, 15, 1};
#define EL 13

/* The open target walk to peer, or NULL. */
static struct fake_req *open_walk(const char *peer, const uint32_t *entry)
{
	for (int i = 0; i < nreqs; i++)
		if (reqs[i].open && !reqs[i].set && strcmp(reqs[i].peer, peer) == 0 && reqs[i].rootlen >= EL &&
		    memcmp(reqs[i].root, entry, EL * sizeof(uint32_t)) == 0)
			return &reqs[i];
	return NULL;
}

static void send_str(struct fake_req *r, uint32_t col, uint32_t tid, const char *s)
{
	uint32_t o[EL + 2];
	struct cm_snmpc_vb vb = {.oid = o, .oidlen = EL + 2, .type = CM_SNMPC_STRING, .str = s, .len = strlen(s)};

	memcpy(o, tgt_entry, sizeof(tgt_entry));
	o[EL] = col;
	o[EL + 1] = tid;
	r->vb(&vb, r->arg);
}

static void send_c64(struct fake_req *r, uint32_t col, uint32_t tid, uint64_t v)
{
	uint32_t o[EL + 2];
	struct cm_snmpc_vb vb = {.oid = o, .oidlen = EL + 2, .type = CM_SNMPC_COUNTER64, .u = v};

	memcpy(o, tgt_entry, sizeof(tgt_entry));
	o[EL] = col;
	o[EL + 1] = tid;
	r->vb(&vb, r->arg);
}

/* Answers the open target walk of peer with (name, read bytes) per tid 1..n. */
static void answer_targets(const char *peer, const char *const *names, const uint64_t *rd, int n)
{
	struct fake_req *r = open_walk(peer, tgt_entry);

	ck_assert_msg(r != NULL, "no target walk to %s", peer);
	for (int i = 0; i < n; i++)
		send_str(r, 2, (uint32_t)i + 1, names[i]);
	for (int i = 0; i < n; i++)
		send_c64(r, 5, (uint32_t)i + 1, rd[i]);
	for (int i = 0; i < n; i++)
		send_c64(r, 6, (uint32_t)i + 1, 0);
	r->open = 0;
	r->done(0, NULL, r->arg);
}

static void fire_round(void)
{
	for (unsigned i = 1; i < NT; i++)
		if (timers[i].cb && timers[i].repeat)
			timers[i].cb(i, timers[i].arg);
}

static const struct redir_resource *res_named(const char *t)
{
	for (const struct redir_resource *r = redir_resource_next(0); r; r = redir_resource_next(r->index))
		if (strcmp(r->target, t) == 0)
			return r;
	return NULL;
}

static char *names_s[] = {"s1", "s2"};
static char *peers[] = {"udp:127.0.0.1:1", "udp:127.0.0.1:2"};
static char *listen_on[1];
static char listen_buf[64];
static struct sa_redir_server_cfg srvs[2];
static struct sa_redirect_config cfg;

static void setup(void)
{
	char err[256] = "";
	struct sa_redirect_config *r = &cfg;

	memset(&cfg, 0, sizeof(cfg));
	memset(timers, 0, sizeof(timers));
	nreqs = 0;
	snprintf(listen_buf, sizeof(listen_buf), "127.0.0.1:%d", ut_free_port());
	listen_on[0] = listen_buf;
	r->listen = listen_on;
	r->nlisten = 1;
	r->threshold = 1000; /* no automatic rebalance in these tests */
	r->weight_bytes = 1;
	r->max_moves = 2;
	r->probe_interval_ms = 300;
	r->probe_timeout_ms = 500;
	r->load_interval = 1;
	r->max_connections = 16;
	r->login_timeout_ms = 1000;
	r->max_data_segment = 8192;
	for (int i = 0; i < 2; i++) {
		srvs[i].name = names_s[i];
		srvs[i].address = i ? "127.0.0.12" : "127.0.0.11";
		srvs[i].port = 3260;
		srvs[i].capacity = 1;
		srvs[i].admin = "up";
		srvs[i].tgt_control = -1;
		srvs[i].agent = peers[i];
		srvs[i].agent_community = "public";
		srvs[i].agent_user = "saadmin";
		srvs[i].agent_auth_passphrase = "auth-pass";
		srvs[i].agent_priv_passphrase = "priv-pass";
	}
	r->servers = srvs;
	r->nservers = 2;
	redir_agent_ops_register(&fake_ops);
	ck_assert_msg(redir_engine_ops.start(&cfg, err, sizeof(err)) == 0, "start: %s", err);
	/* The first round runs on the loop's first turn. */
	for (unsigned i = 1; i < NT; i++) {
		if (timers[i].cb && !timers[i].repeat) {
			cm_timer_cb cb = timers[i].cb;
			void *arg = timers[i].arg;

			memset(&timers[i], 0, sizeof(timers[i]));
			cb(i, arg);
		}
	}
}

static void teardown(void)
{
	redir_engine_ops.stop();
}

START_TEST(test_rate_math)
{
	ck_assert_uint_eq(redir_remote_delta(100, 350), 250);
	/* A counter that went back restarted from zero. */
	ck_assert_uint_eq(redir_remote_delta(1000, 40), 40);
	ck_assert_uint_eq(redir_remote_delta(UINT64_MAX - 5, UINT64_MAX), 5);
	ck_assert_uint_eq(redir_remote_rate(1000, 2.0), 500);
	ck_assert_uint_eq(redir_remote_rate(1000, 0.0), UINT64_MAX);
	ck_assert_uint_eq(redir_remote_rate(0, 1.0), 0);
}
END_TEST

START_TEST(test_targets_become_resources)
{
	const char *a1[] = {"iqn.t:a", "iqn.t:b"}, *a2[] = {"iqn.t:a", "iqn.t:c"};
	uint64_t z[] = {0, 0};
	const struct redir_resource *a, *b, *c;

	/* The first round starts with the engine. */
	answer_targets(peers[0], a1, z, 2);
	/* Listed at once, placed only once every agent answered (or at the
	 * next round, for an agent that is still being waited for). */
	a = res_named("iqn.t:a");
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->server, 0);
	answer_targets(peers[1], a2, z, 2);
	a = res_named("iqn.t:a");
	b = res_named("iqn.t:b");
	c = res_named("iqn.t:c");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(a->origin, REDIR_ORIGIN_DISCOVERED);
	/* Each lands on a server that lists it. */
	ck_assert_uint_eq(b->server, redir_server_index_by_name("s1"));
	ck_assert_uint_eq(c->server, redir_server_index_by_name("s2"));
	ck_assert_uint_ne(a->server, 0);
	ck_assert_int_eq(redir_server_agent(redir_server_index_by_name("s1"))->status, REDIR_AGENT_OK);
	ck_assert_uint_eq(redir_server_agent(redir_server_index_by_name("s2"))->targets, 2);
}
END_TEST

/* A silent agent (its request still open) holds neither the placement nor
 * the next poll of the others back, and is not asked twice at once. */
START_TEST(test_slow_agent_does_not_block)
{
	const char *n1[] = {"iqn.t:b"};
	uint64_t r1[] = {1000};
	int walks2 = 0;

	answer_targets(peers[0], n1, r1, 1);
	ck_assert_uint_eq(res_named("iqn.t:b")->server, 0);
	fire_round();
	ck_assert_uint_eq(res_named("iqn.t:b")->server, redir_server_index_by_name("s1"));
	ck_assert_ptr_nonnull(open_walk(peers[0], tgt_entry));
	for (int i = 0; i < nreqs; i++)
		walks2 += reqs[i].open && strcmp(reqs[i].peer, peers[1]) == 0 && reqs[i].rootlen >= EL &&
		          memcmp(reqs[i].root, tgt_entry, sizeof(tgt_entry)) == 0;
	ck_assert_int_eq(walks2, 1);
	answer_targets(peers[0], n1, r1, 1);
	ck_assert_int_eq(redir_server_agent(redir_server_index_by_name("s2"))->status, REDIR_AGENT_UNKNOWN);
}
END_TEST

START_TEST(test_loads_from_counters)
{
	const char *n1[] = {"iqn.t:b"}, *n2[] = {"iqn.t:c"};
	uint64_t r1[] = {1000000}, r2[] = {5000};
	const struct redir_resource *b;

	answer_targets(peers[0], n1, r1, 1);
	answer_targets(peers[1], n2, r2, 1);
	b = res_named("iqn.t:b");
	ck_assert_uint_eq(b->load, 0); /* first sample: no rate yet */
	usleep(100000);
	fire_round();
	r1[0] += 3000000;
	answer_targets(peers[0], n1, r1, 1);
	answer_targets(peers[1], n2, r2, 1);
	b = res_named("iqn.t:b");
	printf("# b: 3000000 bytes in about 0.1 s -> %llu B/s\n", (unsigned long long)b->load);
	ck_assert_uint_gt(b->load, 3000000);
	ck_assert_uint_eq(res_named("iqn.t:c")->load, 0);
	ck_assert_uint_eq(redir_server_find(b->server)->load, b->load);
	/* A counter reset (the agent restarted) is not a huge negative-turned-positive rate. */
	usleep(100000);
	fire_round();
	r1[0] = 1000;
	answer_targets(peers[0], n1, r1, 1);
	answer_targets(peers[1], n2, r2, 1);
	b = res_named("iqn.t:b");
	ck_assert_uint_lt(b->load, 1000000);
	/* An agent that does not answer: its resources and loads stay. */
	fire_round();
	{
		struct fake_req *r = open_walk(peers[0], tgt_entry);

		ck_assert_ptr_nonnull(r);
		r->open = 0;
		r->done(-ETIMEDOUT, "no answer", r->arg);
	}
	answer_targets(peers[1], n2, r2, 1);
	ck_assert_ptr_nonnull(res_named("iqn.t:b"));
	ck_assert_int_eq(redir_server_agent(redir_server_index_by_name("s1"))->status, REDIR_AGENT_TIMEOUT);
}
END_TEST

START_TEST(test_move_ends_remote_sessions)
{
	const char *n[] = {"iqn.t:b"};
	uint64_t z[] = {0};
	const struct redir_resource *b;
	uint32_t s1 = redir_server_index_by_name("s1"), s2 = redir_server_index_by_name("s2");
	struct fake_req *w;
	uint32_t o[EL + 3];
	struct cm_snmpc_vb vb = {.oid = o, .oidlen = EL + 3, .type = CM_SNMPC_STRING};
	int sets = 0;

	answer_targets(peers[0], n, z, 1);
	answer_targets(peers[1], n, z, 1);
	b = res_named("iqn.t:b");
	ck_assert_ptr_nonnull(b);
	{
		uint32_t from = b->server, to = from == s1 ? s2 : s1;

		ck_assert_int_eq(redir_resource_move(b->index, to), 0);
		w = open_walk(from == s1 ? peers[0] : peers[1], sess_entry);
		ck_assert_msg(w != NULL, "no session walk on the old server");
		ck_assert_uint_eq(w->root[EL], 5); /* sanStorSessionTargetName */
		memcpy(o, sess_entry, sizeof(sess_entry));
		o[EL] = 5;
		o[EL + 1] = 1;
		o[EL + 2] = 7;
		vb.str = "iqn.t:b";
		vb.len = 7;
		w->vb(&vb, w->arg);
		o[EL + 2] = 8;
		vb.str = "iqn.t:other";
		vb.len = 11;
		w->vb(&vb, w->arg);
		w->open = 0;
		w->done(0, NULL, w->arg);
	}
	for (int i = 0; i < nreqs; i++) {
		if (!reqs[i].set || !reqs[i].open)
			continue;
		sets++;
		ck_assert_uint_eq(reqs[i].rootlen, EL + 3);
		ck_assert_uint_eq(reqs[i].root[EL], 11); /* sanStorSessionEnd */
		ck_assert_uint_eq(reqs[i].root[EL + 1], 1);
		ck_assert_uint_eq(reqs[i].root[EL + 2], 7);
		ck_assert_int_eq(reqs[i].value, 2);
		reqs[i].open = 0;
		reqs[i].done(0, NULL, reqs[i].arg);
	}
	ck_assert_int_eq(sets, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("remote");
	TCase *tc = tcase_create("agents");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_rate_math);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_targets_become_resources);
	tcase_add_test(tc, test_slow_agent_does_not_block);
	tcase_add_test(tc, test_loads_from_counters);
	tcase_add_test(tc, test_move_ends_remote_sessions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
