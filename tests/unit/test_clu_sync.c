/* test_clu_sync.c: the cluster sync (engines/cluster/sync.c, peers.c) against a model of its own and an injected
 * SNMP client that answers by hand: the boot round asks the host peers in parallel and adopts the newest, a pull
 * retries when the peer's version moves during its walk, a local change is pushed to every peer and an adopted one
 * is not, pushes are taken only from sync users and only when strictly newer, an older sender is told ours, a
 * concurrent change ends on the same version on both sides, and a peer that does not answer is reported once. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/trap.h"
#include "engines/cluster/clu_sync.h"
#include "tests/unit/evloop_stub.h"

/* ---- the model, as far as the sync uses it --------------------------------------------------------------- */
struct clu_model clu_m;
const struct clu_net_ops *clu_net;
static struct clu_version cur;
static struct clu_member members[4];
static size_t nmembers;
static int adopts;
static struct clu_table last_adopted;
static struct clu_res adopted_rows[8];

int clu_version_cmp(const struct clu_version *a, const struct clu_version *b)
{
	if (a->counter != b->counter)
		return a->counter < b->counter ? -1 : 1;
	return memcmp(a->writer, b->writer, 8);
}
void clu_version_get(struct clu_version *out)
{
	*out = cur;
}
int clu_adopt(const struct clu_table *t, const char *from)
{
	(void)from;
	if (clu_version_cmp(&t->version, &cur) <= 0)
		return -EALREADY;
	cur = t->version;
	adopts++;
	last_adopted = *t;
	ck_assert_uint_le(t->nrows, 8);
	memcpy(adopted_rows, t->rows, t->nrows * sizeof(*t->rows));
	return 0;
}
const struct clu_member *clu_member_get(uint32_t index)
{
	for (size_t i = 0; i < nmembers; i++)
		if (members[i].index == index)
			return &members[i];
	return NULL;
}
int clu_member_next(uint32_t after, uint32_t *out)
{
	for (size_t i = 0; i < nmembers; i++)
		if (members[i].index > after) {
			*out = members[i].index;
			return 0;
		}
	return -ENOENT;
}
size_t clu_member_count(void)
{
	return nmembers;
}
static size_t self_at; /* members[self_at] is this agent */
void clu_self_guid(uint8_t out[8])
{
	memcpy(out, members[self_at].guid, 8);
}
size_t clu_res_count(void)
{
	return 0;
}

/* A: this host (index 1), B (2), C (3) hosts, U (4) a unit.  Writers order as A < B < C. */
static void members_setup(void)
{
	static const char *addr[] = {"udp:198.18.0.10:161", "udp:198.18.0.11:161", "udp:198.18.0.12:161",
	                             "udp:198.18.0.100:161"};

	memset(members, 0, sizeof(members));
	for (int i = 0; i < 4; i++) {
		members[i].index = (uint32_t)i + 1;
		members[i].type = i == 3 ? CLU_UNIT : CLU_HOST;
		members[i].guid[0] = 0x5c;
		members[i].guid[7] = (uint8_t)(i + 1);
		snprintf(members[i].address, sizeof(members[i].address), "%s", addr[i]);
	}
	nmembers = 4;
}
static struct clu_version ver(uint32_t counter, int writer)
{
	struct clu_version v = {.counter = counter};

	v.writer[0] = 0x5c;
	v.writer[7] = (uint8_t)writer;
	return v;
}

/* ---- the injected client: every request waits for the test to answer it ---------------------------------- */
struct req {
	int inform;
	char peer[64], user[32];
	uint32_t root[16];
	size_t rootlen;
	cm_snmpc_vb_cb vb;
	cm_snmpc_done_cb done;
	void *arg;
	struct clu_version v; /* an inform's varbinds */
	int have_v;
};
static struct req reqs[32];
static size_t nreqs;

static int ut_walk(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
                   cm_snmpc_done_cb done, void *arg)
{
	struct req *r = &reqs[nreqs++];

	ck_assert_uint_lt(nreqs, 32);
	memset(r, 0, sizeof(*r));
	snprintf(r->peer, sizeof(r->peer), "%s", p->peer);
	snprintf(r->user, sizeof(r->user), "%s", p->user ? p->user : "");
	memcpy(r->root, root, rootlen * sizeof(*root));
	r->rootlen = rootlen;
	r->vb = vb;
	r->done = done;
	r->arg = arg;
	return 0;
}
static int ut_inform(const struct cm_snmpc_peer *p, const uint32_t *trap_oid, size_t trap_oid_len,
                     const struct cm_snmpc_vb *vbs, size_t nvbs, cm_snmpc_done_cb done, void *arg)
{
	struct req *r = &reqs[nreqs++];

	ck_assert_uint_lt(nreqs, 32);
	memset(r, 0, sizeof(*r));
	r->inform = 1;
	snprintf(r->peer, sizeof(r->peer), "%s", p->peer);
	snprintf(r->user, sizeof(r->user), "%s", p->user);
	ck_assert_uint_eq(trap_oid_len, 12);
	ck_assert_uint_eq(trap_oid[11], 3); /* sanCluCrtChanged */
	ck_assert_uint_eq(nvbs, 2);
	ck_assert_int_eq(vbs[0].type, CM_SNMPC_UNSIGNED);
	ck_assert_int_eq(vbs[1].type, CM_SNMPC_STRING);
	ck_assert_uint_eq(vbs[1].len, 8);
	r->v.counter = (uint32_t)vbs[0].u;
	memcpy(r->v.writer, vbs[1].str, 8);
	r->have_v = 1;
	r->done = done;
	r->arg = arg;
	return 0;
}
static const struct clu_net_ops ut_ops = {.walk = ut_walk, .inform = ut_inform};

/* The oldest request still open to PEER (its address) of that kind; NULL none. */
static struct req *open_req(const char *peer, int inform)
{
	for (size_t i = 0; i < nreqs; i++)
		if (reqs[i].done && reqs[i].inform == inform && strstr(reqs[i].peer, peer))
			return &reqs[i];
	return NULL;
}
static size_t open_count(int inform)
{
	size_t n = 0;

	for (size_t i = 0; i < nreqs; i++)
		n += reqs[i].done && reqs[i].inform == inform;
	return n;
}
static void finish(struct req *r, int rc)
{
	cm_snmpc_done_cb done = r->done;

	r->done = NULL;
	done(rc, rc ? "Timeout" : "", r->arg);
}
static void vb_u(struct req *r, const uint32_t *sub, size_t n, uint64_t u, int type)
{
	uint32_t oid[32] = {CLU_OID_MIB};
	struct cm_snmpc_vb vb = {.oid = oid, .oidlen = CLU_OID_MIB_LEN + n, .type = type, .i = (int64_t)u, .u = u};

	memcpy(oid + CLU_OID_MIB_LEN, sub, n * sizeof(*sub));
	ck_assert_int_eq(r->vb(&vb, r->arg), 0);
}
static void vb_s(struct req *r, const uint32_t *sub, size_t n, const void *s, size_t len)
{
	uint32_t oid[32] = {CLU_OID_MIB};
	struct cm_snmpc_vb vb = {
	    .oid = oid, .oidlen = CLU_OID_MIB_LEN + n, .type = CM_SNMPC_STRING, .str = s, .len = len};

	memcpy(oid + CLU_OID_MIB_LEN, sub, n * sizeof(*sub));
	ck_assert_int_eq(r->vb(&vb, r->arg), 0);
}
/* Answers a walk of .1.1 with version v. */
static void answer_scalars(struct req *r, struct clu_version v)
{
	static const uint32_t ver_oid[] = {1, 1, 1, 0}, wr_oid[] = {1, 1, 2, 0}, gran_oid[] = {1, 1, 4, 0};

	ck_assert_uint_eq(r->rootlen, CLU_OID_MIB_LEN + 2);
	ck_assert_uint_eq(r->root[CLU_OID_MIB_LEN + 1], 1);
	vb_u(r, ver_oid, 4, v.counter, CM_SNMPC_UNSIGNED);
	vb_s(r, wr_oid, 4, v.writer, 8);
	vb_u(r, gran_oid, 4, 2, CM_SNMPC_INTEGER);
	finish(r, 0);
}
/* Feeds the first walk of a pull (sanCluObjects): the scalars at v, a member row, then the CRT's two rows (a unit, a
 * controller shared by hosts 1 and 2) and their owners; the peer table after them ends the walk. */
static void feed_scalars(struct req *r, struct clu_version v)
{
	static const uint32_t ver_oid[] = {1, 1, 1, 0}, wr_oid[] = {1, 1, 2, 0}, gran_oid[] = {1, 1, 4, 0};

	vb_u(r, ver_oid, 4, v.counter, CM_SNMPC_UNSIGNED);
	vb_s(r, wr_oid, 4, v.writer, 8);
	vb_u(r, gran_oid, 4, 2, CM_SNMPC_INTEGER);
}
static int vb_raw(struct req *r, const uint32_t *sub, size_t n, uint64_t u)
{
	uint32_t oid[32] = {CLU_OID_MIB};
	struct cm_snmpc_vb vb = {.oid = oid, .oidlen = CLU_OID_MIB_LEN + n, .type = CM_SNMPC_INTEGER, .i = (int64_t)u};

	memcpy(oid + CLU_OID_MIB_LEN, sub, n * sizeof(*sub));
	return r->vb(&vb, r->arg);
}
static void answer_objects(struct req *r, struct clu_version v)
{
	static const uint32_t member_type[] = {1, 2, 1, 2, 1}, peer_state[] = {1, 5, 1, 1, 2};

	ck_assert_uint_eq(r->rootlen, CLU_OID_MIB_LEN + 1);
	feed_scalars(r, v);
	ck_assert_int_eq(vb_raw(r, member_type, 5, CLU_HOST), 0);
	for (uint32_t row = 1; row <= 2; row++) {
		uint32_t type[] = {1, 3, 1, 3, row};

		vb_u(r, type, 5, row == 1 ? CLU_UNIT : CLU_CONTROLLER, CM_SNMPC_INTEGER);
	}
	for (uint32_t row = 1; row <= 2; row++) {
		uint32_t parent[] = {1, 3, 1, 6, row};

		vb_u(r, parent, 5, row == 1 ? 0 : 1, CM_SNMPC_UNSIGNED);
	}
	for (uint32_t row = 1; row <= 2; row++) {
		uint32_t own[] = {1, 3, 1, 7, row};

		vb_u(r, own, 5, CLU_SHARED, CM_SNMPC_INTEGER);
	}
	{
		uint32_t name[] = {1, 3, 1, 9, 2};

		vb_s(r, name, 5, "iqn.2026-12.org.sanagent.clu:c114a", 34);
	}
	for (uint32_t row = 1; row <= 2; row++)
		for (uint32_t h = 1; h <= 2; h++) {
			uint32_t o[] = {1, 4, 1, 2, row, h};

			vb_u(r, o, 6, 1, CM_SNMPC_INTEGER);
		}
	ck_assert_int_eq(vb_raw(r, peer_state, 5, 2), 1); /* past the owner table: stop */
	finish(r, 0);
}
/* A whole pull from peer: its objects at v, then its scalars at v_end. */
static void answer_pull(const char *peer, struct clu_version v, struct clu_version v_end)
{
	struct req *r;

	ck_assert_ptr_nonnull(r = open_req(peer, 0));
	answer_objects(r, v);
	ck_assert_ptr_nonnull(r = open_req(peer, 0));
	answer_scalars(r, v_end);
}

/* ---- events ------------------------------------------------------------------------------------------------ */
static int unreachable_events;
static uint32_t unreachable_member;
static void on_cluster(int topic, const void *event, void *arg)
{
	const struct clu_event *ev = event;

	(void)topic;
	(void)arg;
	if (ev->type == CLU_EV_PEER_UNREACHABLE) {
		unreachable_events++;
		unreachable_member = ev->member;
	}
}

static struct sa_cluster_config cfg;
static char *sync_users[] = {"clusync"};
static int sub;

static void setup(void)
{
	char err[128] = "";

	members_setup();
	self_at = 0;
	cur = ver(3, 1);
	adopts = 0;
	nreqs = 0;
	unreachable_events = 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = "host";
	cfg.sync_interval = 0;
	cfg.peer_user.present = 1;
	cfg.peer_user.name = "clusync";
	cfg.peer_user.auth_passphrase = "auth-secret";
	cfg.peer_user.priv_passphrase = "priv-secret";
	cfg.sync_users = sync_users;
	cfg.nsync_users = 1;
	clu_net = &ut_ops;
	memset(&clu_m, 0, sizeof(clu_m));
	sub = bus_subscribe(BUS_CLUSTER, on_cluster, NULL);
	ck_assert_int_gt(sub, 0);
	ck_assert_msg(clu_sync_start(&cfg, err, sizeof(err)) == 0, "start: %s", err);
}
/* The client calls every done callback once: the requests left open when the sync stopped end now, as orphans. */
static void end_open(void)
{
	for (size_t i = 0; i < nreqs; i++)
		if (reqs[i].done)
			finish(&reqs[i], -ETIMEDOUT);
	nreqs = 0;
}
static void teardown(void)
{
	clu_sync_stop();
	end_open();
	bus_unsubscribe(sub);
}

/* The boot round: B and C asked at once (not the unit, not ourselves), as the sync user; C's newer table pulled and
 * adopted with its rows and owners; B's, older than C's once C's is in, not pulled after it. */
START_TEST(boot_adopts_newest)
{
	struct req *b, *c;

	ck_assert_int_eq(clu_sync_booting(), 1);
	ck_assert_uint_eq(open_count(0), 2);
	ck_assert_ptr_nonnull(b = open_req("198.18.0.11", 0));
	ck_assert_ptr_nonnull(c = open_req("198.18.0.12", 0));
	ck_assert_str_eq(b->user, "clusync");
	answer_scalars(c, ver(7, 3));
	answer_scalars(b, ver(5, 2)); /* newer than ours, but a pull is running: it waits */
	ck_assert_uint_eq(open_count(0), 1);
	answer_pull("198.18.0.12", ver(7, 3), ver(7, 3));
	ck_assert_int_eq(adopts, 1);
	ck_assert_uint_eq(cur.counter, 7);
	ck_assert_uint_eq(last_adopted.nrows, 2);
	ck_assert_int_eq(last_adopted.granularity, 2);
	ck_assert_int_eq(adopted_rows[0].type, CLU_UNIT);
	ck_assert_int_eq(adopted_rows[1].type, CLU_CONTROLLER);
	ck_assert_uint_eq(adopted_rows[1].parent, 1);
	ck_assert_int_eq(adopted_rows[1].ownership, CLU_SHARED);
	ck_assert_uint_eq(adopted_rows[1].nowners, 2);
	ck_assert_uint_eq(adopted_rows[1].owners[1], 2);
	ck_assert_str_eq(adopted_rows[1].name, "iqn.2026-12.org.sanagent.clu:c114a");
	/* B's 5 is older than the 7 we hold now: no second pull; B gets told ours instead */
	ck_assert_uint_eq(open_count(0), 0);
	ck_assert_int_eq(clu_sync_booting(), 0);
	ck_assert_uint_eq(open_count(1), 1);
	ck_assert_uint_eq(open_req("198.18.0.11", 1)->v.counter, 7);
	ck_assert_uint_eq(clu_peer_get(3)->state, CLU_PEER_REACHABLE);
	ck_assert_uint_eq(clu_peer_get(3)->version.counter, 7);
	ck_assert_ptr_null(clu_peer_get(1)); /* ourselves */
	{
		struct clu_sync_counters k;

		clu_sync_counters_get(&k);
		ck_assert_uint_eq(k.pulls, 1);
	}
}
END_TEST

/* The peer changed during the walk: the rows are not adopted, the pull starts again and takes the later table. */
START_TEST(pull_retries_when_version_moves)
{
	answer_scalars(open_req("198.18.0.11", 0), ver(1, 2));
	answer_scalars(open_req("198.18.0.12", 0), ver(6, 3));
	answer_pull("198.18.0.12", ver(6, 3), ver(8, 3));
	ck_assert_int_eq(adopts, 0);
	answer_pull("198.18.0.12", ver(8, 3), ver(8, 3));
	ck_assert_int_eq(adopts, 1);
	ck_assert_uint_eq(cur.counter, 8);
}
END_TEST

/* A host holding the newest table tells the older ones at boot; a local change goes to every other member (units
 * too). */
START_TEST(push_local_changes)
{
	struct req *r;

	cur = ver(9, 1);
	answer_scalars(open_req("198.18.0.11", 0), ver(5, 2));
	ck_assert_uint_eq(open_count(1), 0); /* told once the round ended */
	answer_scalars(open_req("198.18.0.12", 0), ver(9, 1));
	ck_assert_uint_eq(open_count(1), 1);
	ck_assert_ptr_nonnull(r = open_req("198.18.0.11", 1));
	ck_assert_str_eq(r->peer, "udp:198.18.0.11:162");
	ck_assert_uint_eq(r->v.counter, 9);
	finish(r, 0);

	cur = ver(10, 1);
	clu_sync_push();
	ck_assert_uint_eq(open_count(1), 3);
	ck_assert_uint_eq(clu_m.ctr.pushes_sent, 4);
	ck_assert_ptr_nonnull(r = open_req("198.18.0.100", 1));
	ck_assert_str_eq(r->user, "clusync");
	ck_assert_uint_eq(r->v.counter, 10);
	ck_assert_uint_eq(r->v.writer[7], 1);
	while ((r = open_req("198.18.0", 1)))
		finish(r, 0);
	ck_assert_uint_eq(open_count(1), 0);
}
END_TEST

/* A member's notify address from the config is where its pushes go; the others' default to port 162. */
START_TEST(push_to_notify_address)
{
	struct sa_clu_member_cfg mc[] = {{.type = "host",
	                                  .guid = "5c00000000000002",
	                                  .address = "udp:198.18.0.11:161",
	                                  .notify = "udp:198.18.0.11:1162"}};
	char err[128] = "";
	struct req *r;

	clu_sync_stop();
	end_open();
	cfg.members = mc;
	cfg.nmembers = 1;
	ck_assert_msg(clu_sync_start(&cfg, err, sizeof(err)) == 0, "start: %s", err);
	answer_scalars(open_req("198.18.0.11", 0), ver(3, 1));
	answer_scalars(open_req("198.18.0.12", 0), ver(3, 1));
	cur = ver(4, 1);
	clu_sync_push();
	ck_assert_ptr_nonnull(r = open_req("198.18.0.11", 1));
	ck_assert_str_eq(r->peer, "udp:198.18.0.11:1162");
	ck_assert_ptr_nonnull(r = open_req("198.18.0.12", 1));
	ck_assert_str_eq(r->peer, "udp:198.18.0.12:162");
	cfg.members = NULL;
	cfg.nmembers = 0;
}
END_TEST

static void push_from(const char *user, const char *source, struct clu_version v, int version)
{
	uint32_t trap_oid[] = {CLU_OID_MIB, 0, 3};
	uint32_t o1[] = {CLU_OID_MIB, 1, 1, 1, 0}, o2[] = {CLU_OID_MIB, 1, 1, 2, 0};
	struct cm_trap_var vars[2] = {
	    {.oid = o1, .oid_len = CLU_OID_MIB_LEN + 4, .type = SA_TV_UNSIGNED, .ival = v.counter},
	    {.oid = o2, .oid_len = CLU_OID_MIB_LEN + 4, .type = SA_TV_STRING, .str = v.writer, .str_len = 8},
	};
	struct cm_trap t = {.trap_oid = trap_oid,
	                    .trap_oid_len = CLU_OID_MIB_LEN + 2,
	                    .version = version,
	                    .is_inform = 1,
	                    .source = source,
	                    .principal = user,
	                    .vars = vars,
	                    .nvars = 2};

	bus_publish_key(BUS_TRAP, trap_oid, CLU_OID_MIB_LEN + 2, &t);
}

/* Pushes: a user not in sync_users is dropped and counted; a sync user's strictly newer version is pulled from the
 * sender; an equal one is ignored; an older one gets ours back. */
START_TEST(receive_pushes)
{
	struct clu_sync_counters k;
	struct req *r;

	answer_scalars(open_req("198.18.0.11", 0), ver(3, 1));
	answer_scalars(open_req("198.18.0.12", 0), ver(3, 1));
	ck_assert_int_eq(clu_sync_booting(), 0);

	push_from("clurogue", "198.18.0.11:40000", ver(20, 2), 3);
	push_from("public", "198.18.0.11:40000", ver(20, 2), 2);
	ck_assert_uint_eq(nreqs, 2);
	clu_sync_counters_get(&k);
	ck_assert_uint_eq(k.dropped, 2);

	push_from("clusync", "198.18.0.11:40000", ver(4, 2), 3);
	ck_assert_ptr_nonnull(open_req("198.18.0.11", 0));
	answer_pull("198.18.0.11", ver(4, 2), ver(4, 2));
	ck_assert_uint_eq(cur.counter, 4);
	push_from("clusync", "198.18.0.12:40000", ver(4, 2), 3);
	ck_assert_uint_eq(open_count(0) + open_count(1), 0);
	push_from("clusync", "198.18.0.12:40000", ver(2, 3), 3);
	ck_assert_ptr_nonnull(r = open_req("198.18.0.12", 1));
	ck_assert_uint_eq(r->v.counter, 4);
	finish(r, 0);
	clu_sync_counters_get(&k);
	ck_assert_uint_eq(k.pushes_received, 3);
}
END_TEST

/* A pull whose peer turns out to be no newer than us (another pull brought its table meanwhile) stops after the
 * scalars: no rows read, nothing adopted, no second walk. */
START_TEST(pull_stops_when_not_newer)
{
	static const uint32_t member_type[] = {1, 2, 1, 2, 1};
	struct req *r;

	answer_scalars(open_req("198.18.0.11", 0), ver(3, 1));
	answer_scalars(open_req("198.18.0.12", 0), ver(3, 1));
	push_from("clusync", "198.18.0.11:40000", ver(4, 2), 3);
	ck_assert_ptr_nonnull(r = open_req("198.18.0.11", 0));
	cur = ver(4, 2);
	feed_scalars(r, ver(4, 2));
	ck_assert_int_eq(vb_raw(r, member_type, 5, CLU_HOST), 1);
	finish(r, 0);
	ck_assert_uint_eq(open_count(0), 0);
	ck_assert_int_eq(adopts, 0);
}
END_TEST

/* A unit: it asks the three hosts at boot and pulls the newest (it applies the table as target ACLs), but it
 * never pushes, not even to an older host. */
START_TEST(unit_pulls_never_pushes)
{
	char err[128] = "";

	clu_sync_stop();
	end_open();
	self_at = 3;
	cfg.role = "unit";
	ck_assert_msg(clu_sync_start(&cfg, err, sizeof(err)) == 0, "start: %s", err);
	ck_assert_uint_eq(open_count(0), 3);
	ck_assert_ptr_null(open_req("198.18.0.100", 0));
	answer_scalars(open_req("198.18.0.10", 0), ver(2, 1));
	answer_scalars(open_req("198.18.0.11", 0), ver(6, 2));
	answer_scalars(open_req("198.18.0.12", 0), ver(1, 3));
	answer_pull("198.18.0.11", ver(6, 2), ver(6, 2));
	ck_assert_uint_eq(cur.counter, 6);
	ck_assert_int_eq(clu_sync_booting(), 0);
	ck_assert_uint_eq(open_count(1), 0); /* the older hosts are not told */
	clu_sync_push();
	push_from("clusync", "198.18.0.12:40000", ver(2, 3), 3);
	ck_assert_uint_eq(open_count(0) + open_count(1), 0);
	cfg.role = "host";
}
END_TEST

/* Agents on loopback share one address: the sender is told apart by the writer of the version it announces. */
START_TEST(sender_on_shared_address)
{
	char err[128] = "";

	clu_sync_stop();
	for (int i = 1; i < 4; i++)
		snprintf(members[i].address, sizeof(members[i].address), "udp:127.0.0.1:%d", 16100 + i);
	end_open();
	ck_assert_msg(clu_sync_start(&cfg, err, sizeof(err)) == 0, "start: %s", err);
	answer_scalars(open_req("127.0.0.1:16101", 0), ver(3, 1));
	answer_scalars(open_req("127.0.0.1:16102", 0), ver(3, 1));
	push_from("clusync", "127.0.0.1:40000", ver(5, 3), 3);
	ck_assert_ptr_null(open_req("127.0.0.1:16101", 0));
	answer_pull("127.0.0.1:16102", ver(5, 3), ver(5, 3));
	ck_assert_uint_eq(cur.counter, 5);
}
END_TEST

/* The seed's concurrent change: A and C both wrote 4 on base 3.  C's writer orders after A's, so A pulls C's and C,
 * told of A's 4, answers with its own: both end on 4/C. */
START_TEST(conflict_converges)
{
	struct req *r;

	answer_scalars(open_req("198.18.0.11", 0), ver(3, 1));
	answer_scalars(open_req("198.18.0.12", 0), ver(3, 1));
	cur = ver(4, 1); /* our change */
	push_from("clusync", "198.18.0.12:40000", ver(4, 3), 3);
	answer_pull("198.18.0.12", ver(4, 3), ver(4, 3));
	ck_assert_uint_eq(cur.writer[7], 3);

	/* the other side of it: we hold 4/C, B's 4/B loses to it and is told ours */
	push_from("clusync", "198.18.0.11:40000", ver(4, 2), 3);
	ck_assert_uint_eq(open_count(0), 0);
	ck_assert_ptr_nonnull(r = open_req("198.18.0.11", 1));
	ck_assert_uint_eq(r->v.counter, 4);
	ck_assert_uint_eq(r->v.writer[7], 3);
	finish(r, 0);
}
END_TEST

/* A peer that does not answer: unreachable with one event however often it fails, the others still synced;
 * reachable again once it answers. */
START_TEST(unreachable_once)
{
	struct req *r;

	finish(open_req("198.18.0.11", 0), -ETIMEDOUT);
	ck_assert_int_eq(unreachable_events, 1);
	ck_assert_uint_eq(unreachable_member, 2);
	ck_assert_int_eq(clu_peer_get(2)->state, CLU_PEER_UNREACHABLE);
	ck_assert_str_eq(clu_peer_get(2)->last_error, "Timeout");
	answer_scalars(open_req("198.18.0.12", 0), ver(6, 3));
	answer_pull("198.18.0.12", ver(6, 3), ver(6, 3));
	ck_assert_uint_eq(cur.counter, 6);
	ck_assert_int_eq(clu_sync_booting(), 0);

	cur = ver(7, 1);
	clu_sync_push();
	ck_assert_ptr_nonnull(r = open_req("198.18.0.11", 1));
	finish(r, -ETIMEDOUT);
	ck_assert_int_eq(unreachable_events, 1);
	ck_assert_uint_eq(clu_peer_get(2)->failures, 2);
	while ((r = open_req("198.18.0", 1)))
		finish(r, 0);
	push_from("clusync", "198.18.0.11:40000", ver(2, 2), 3);
	ck_assert_int_eq(clu_peer_get(2)->state, CLU_PEER_REACHABLE);
	ck_assert_uint_eq(clu_peer_get(2)->version.counter, 2);
}
END_TEST

/* Stopping with requests in flight: their late answers change nothing. */
START_TEST(stop_orphans_requests)
{
	struct req *b = open_req("198.18.0.11", 0);

	uint32_t oid[] = {CLU_OID_MIB, 1, 1, 1, 0};
	struct cm_snmpc_vb vb = {.oid = oid, .oidlen = CLU_OID_MIB_LEN + 4, .type = CM_SNMPC_UNSIGNED, .u = 50};

	clu_sync_stop();
	ck_assert_int_eq(b->vb(&vb, b->arg), 1); /* the walk is told to stop */
	finish(b, 0);
	ck_assert_int_eq(adopts, 0);
	ck_assert_uint_eq(open_count(0), 1); /* only C's, still open */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clu_sync");
	TCase *tc = tcase_create("sync");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, boot_adopts_newest);
	tcase_add_test(tc, pull_retries_when_version_moves);
	tcase_add_test(tc, push_local_changes);
	tcase_add_test(tc, push_to_notify_address);
	tcase_add_test(tc, receive_pushes);
	tcase_add_test(tc, sender_on_shared_address);
	tcase_add_test(tc, pull_stops_when_not_newer);
	tcase_add_test(tc, unit_pulls_never_pushes);
	tcase_add_test(tc, conflict_converges);
	tcase_add_test(tc, unreachable_once);
	tcase_add_test(tc, stop_orphans_requests);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
