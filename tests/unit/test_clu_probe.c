/* test_clu_probe.c: the host's probe of the units (engines/cluster/probe.c) against a membership, a CRT lookup and
 * an SNMP client held by the test: the three walks of a unit, what clu_probe_merge is handed (LU 0 left out, the
 * portal, designators), a unit that does not answer (counted, reported, nothing merged), an orphaned walk. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/cluster/clu_probe.h"
#include "engines/cluster/clu_sync.h"
#include "common/evloop.h"

/* ---- a loop whose timers the test fires ---- */
static struct {
	unsigned int id;
	cm_timer_cb cb;
	void *arg;
	int repeat;
} timers[8];
static unsigned int timer_ids;

#define EVLOOP_STUB_NO_TIMERS
#include "tests/unit/evloop_stub.h"

unsigned int cm_ev_timer(unsigned int ms, int repeat, cm_timer_cb cb, void *arg)
{
	(void)ms;
	for (int i = 0; i < 8; i++)
		if (!timers[i].id) {
			timers[i].id = ++timer_ids;
			timers[i].cb = cb;
			timers[i].arg = arg;
			timers[i].repeat = repeat;
			return timers[i].id;
		}
	return 0;
}
void cm_ev_cancel(unsigned int id)
{
	for (int i = 0; i < 8; i++)
		if (timers[i].id == id)
			timers[i].id = 0;
}
/* Fires every timer once (a one-shot goes). */
static void fire_timers(void)
{
	for (int i = 0; i < 8; i++)
		if (timers[i].id) {
			unsigned int id = timers[i].id;

			if (!timers[i].repeat)
				timers[i].id = 0;
			timers[i].cb(id, timers[i].arg);
		}
}

/* ---- what probe.c uses from the rest of the engine, held by the test ---- */
struct clu_model clu_m;
const struct clu_net_ops *clu_net;
static struct clu_member members[2];
static size_t nmembers;
static struct clu_res unit_row = {.index = 7, .type = CLU_UNIT};
static int merges, contacts_ok, contacts_failed, booting, pending21;
static uint32_t merged_unit;
static struct clu_probed_controller merged[8];
static struct clu_probed_device merged_dev[8][8];
static size_t nmerged;

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

const struct clu_res *clu_res_find_guid(const uint8_t *guid, size_t len)
{
	return len == 8 && memcmp(guid, members[1].guid, 8) == 0 ? &unit_row : NULL;
}

int clu_probe_merge(uint32_t unit, const struct clu_probed_controller *ctl, size_t n)
{
	merges++;
	merged_unit = unit;
	nmerged = n < 8 ? n : 8;
	for (size_t i = 0; i < nmerged; i++) {
		merged[i] = ctl[i];
		merged[i].devices = merged_dev[i];
		for (size_t k = 0; k < ctl[i].ndevices && k < 8; k++)
			merged_dev[i][k] = ctl[i].devices[k];
	}
	return 0;
}

void clu_peer_contact_ok(uint32_t member, const struct clu_version *v)
{
	(void)member;
	(void)v;
	contacts_ok++;
}

void clu_peer_contact_failed(uint32_t member, const char *why)
{
	(void)member;
	(void)why;
	contacts_failed++;
}

int clu_sync_booting(void)
{
	return booting;
}

/* ---- the client: walks are recorded; the test answers them ---- */
struct req {
	uint32_t root[16];
	size_t rootlen;
	char peer[64], user[32];
	cm_snmpc_vb_cb vb;
	cm_snmpc_done_cb done;
	void *arg;
};
static struct req reqs[16];
static size_t nreqs;

static int fake_walk(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
                     cm_snmpc_done_cb done, void *arg)
{
	struct req *r = &reqs[nreqs++];

	ck_assert_uint_le(rootlen, 16);
	memcpy(r->root, root, rootlen * sizeof(*root));
	r->rootlen = rootlen;
	snprintf(r->peer, sizeof(r->peer), "%s", p->peer);
	snprintf(r->user, sizeof(r->user), "%s", p->user ? p->user : "");
	r->vb = vb;
	r->done = done;
	r->arg = arg;
	return 0;
}
static const struct clu_net_ops fake_ops = {.walk = fake_walk};

#define OBJ 1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1

static void send_str(struct req *r, const uint32_t *oid, size_t len, const char *s, size_t slen)
{
	struct cm_snmpc_vb vb = {.oid = oid, .oidlen = len, .type = CM_SNMPC_STRING, .str = s, .len = slen};

	r->vb(&vb, r->arg);
}

static void send_num(struct req *r, const uint32_t *oid, size_t len, int type, uint64_t v)
{
	struct cm_snmpc_vb vb = {.oid = oid, .oidlen = len, .type = type, .i = (int64_t)v, .u = v};

	r->vb(&vb, r->arg);
}

/* The storage agent's answer: portal 1 0.0.0.0:3260 active; targets 1 and 2; LUN 0 (controller) and 1 of tid 1,
 * LUN 1 of tid 2 with the same designator as 1.1 (one LU through two targets). */
static void answer(size_t i)
{
	struct req *r = &reqs[i];
	static const uint8_t d[16] = {0x60, 0, 0, 0, 0, 0, 0, 0, 0x50, 1, 0x40, 0x5a, 0xa0, 0xc0, 0xff, 0xee};
	static const uint8_t zero[4] = {0};

	switch (r->root[11]) {
	case 12: {
		uint32_t a[] = {OBJ, 12, 1, 3, 1}, p[] = {OBJ, 12, 1, 4, 1}, s[] = {OBJ, 12, 1, 7, 1};

		send_str(r, a, 15, (const char *)zero, 4);
		send_num(r, p, 15, CM_SNMPC_UNSIGNED, 3260);
		send_num(r, s, 15, CM_SNMPC_INTEGER, 1);
		break;
	}
	case 13: {
		uint32_t n1[] = {OBJ, 13, 1, 2, 1}, n2[] = {OBJ, 13, 1, 2, 2}, l1[] = {OBJ, 13, 1, 3, 1};

		send_str(r, n1, 15, "iqn.t:a", 7);
		send_str(r, n2, 15, "iqn.t:b", 7);
		send_num(r, l1, 15, CM_SNMPC_UNSIGNED, 2); /* a column probe.c does not read */
		break;
	}
	case 14: {
		uint32_t t10[] = {OBJ, 14, 1, 2, 1, 0}, t11[] = {OBJ, 14, 1, 2, 1, 1}, t21[] = {OBJ, 14, 1, 2, 2, 1},
		         d11[] = {OBJ, 14, 1, 6, 1, 1}, d21[] = {OBJ, 14, 1, 6, 2, 1}, v11[] = {OBJ, 14, 1, 7, 1, 1},
		         m11[] = {OBJ, 14, 1, 8, 1, 1}, c11[] = {OBJ, 14, 1, 9, 1, 1}, c21[] = {OBJ, 14, 1, 9, 2, 1};

		send_str(r, t10, 16, "controller", 10);
		send_str(r, t11, 16, "disk", 4);
		send_str(r, t21, 16, "disk", 4);
		send_str(r, d11, 16, (const char *)d, 16);
		send_str(r, d21, 16, (const char *)d, 16);
		send_str(r, v11, 16, "IET", 3);
		send_str(r, m11, 16, "VIRTUAL-DISK", 12);
		send_num(r, c11, 16, CM_SNMPC_COUNTER64, 64u << 20);
		send_num(r, c21, 16, CM_SNMPC_COUNTER64, 64u << 20);
		for (uint32_t k = 0; k < 3; k++) {
			static const uint32_t at[3][2] = {{1, 0}, {1, 1}, {2, 1}};
			uint32_t st[] = {OBJ, 14, 1, 10, at[k][0], at[k][1]};

			/* sanStorLunIdentityStatus: read(3), unless the test makes LUN 2/1 pending(2). */
			send_num(r, st, 16, CM_SNMPC_INTEGER, k == 2 && pending21 ? 2 : 3);
		}
		break;
	}
	default: ck_abort_msg("unexpected walk of table %u", (unsigned int)r->root[11]);
	}
	r->done(0, NULL, r->arg);
}

static struct sa_cluster_config cfg;

static void setup(void)
{
	memset(&clu_m, 0, sizeof(clu_m));
	memset(reqs, 0, sizeof(reqs));
	nreqs = 0;
	merges = contacts_ok = contacts_failed = booting = pending21 = 0;
	nmerged = 0;
	clu_net = &fake_ops;
	memset(members, 0, sizeof(members));
	members[0] = (struct clu_member){.index = 1, .type = CLU_HOST, .guid = {1, 1, 1, 1, 1, 1, 1, 1}};
	members[1] = (struct clu_member){.index = 2, .type = CLU_UNIT, .guid = {2, 2, 2, 2, 2, 2, 2, 2}};
	snprintf(members[1].address, sizeof(members[1].address), "udp:198.18.0.112:161");
	snprintf(members[1].name, sizeof(members[1].name), "unit112");
	nmembers = 2;
	cfg = (struct sa_cluster_config){.role = "host", .poll_interval = 5};
	cfg.peer_user.present = 1;
	cfg.peer_user.name = "clusync";
	cfg.peer_user.auth_passphrase = "auth-secret";
	cfg.peer_user.priv_passphrase = "priv-secret";
}

static void teardown(void)
{
	clu_probe_stop();
	memset(timers, 0, sizeof(timers));
}

START_TEST(probe_walks_three_tables_and_merges)
{
	char err[64] = "";

	ck_assert_int_eq(clu_probe_start(&cfg, err, sizeof(err)), 0);
	fire_timers();
	/* One unit: its portal table first, as the peer user. */
	ck_assert_uint_eq(nreqs, 1);
	ck_assert_str_eq(reqs[0].peer, "udp:198.18.0.112:161");
	ck_assert_str_eq(reqs[0].user, "clusync");
	ck_assert_uint_eq(reqs[0].rootlen, 13);
	answer(0);
	ck_assert_uint_eq(nreqs, 2);
	/* Asked again while busy: not twice at once. */
	clu_probe_now();
	ck_assert_uint_eq(nreqs, 2);
	answer(1);
	ck_assert_uint_eq(nreqs, 3);
	ck_assert_int_eq(merges, 0);
	answer(2);
	ck_assert_int_eq(merges, 1);
	ck_assert_uint_eq(merged_unit, 7);
	ck_assert_int_eq(contacts_ok, 1);
	ck_assert_uint_eq(nmerged, 2);
	ck_assert_str_eq(merged[0].iqn, "iqn.t:a");
	ck_assert_uint_eq(merged[0].tid, 1);
	/* A wildcard portal: the unit is reached where its agent is. */
	ck_assert_str_eq(merged[0].portal, "198.18.0.112:3260");
	/* tgt's LU 0 is no device; the same designator under both controllers (one LU, two paths). */
	ck_assert_uint_eq(merged[0].ndevices, 1);
	ck_assert_uint_eq(merged[0].devices[0].lun, 1);
	ck_assert_uint_eq(merged[0].devices[0].designator_len, 16);
	ck_assert_str_eq(merged[0].devices[0].vendor, "IET");
	ck_assert_str_eq(merged[0].devices[0].model, "VIRTUAL-DISK");
	ck_assert_uint_eq(merged[0].devices[0].size, 64u << 20);
	ck_assert_uint_eq(merged[1].ndevices, 1);
	ck_assert_mem_eq(merged[1].devices[0].designator, merged[0].devices[0].designator, 16);
	ck_assert_uint_eq(clu_m.ctr.probe_failures, 0);
}
END_TEST

START_TEST(pending_identity_waits_for_the_next_probe)
{
	char err[64] = "";

	pending21 = 1;
	ck_assert_int_eq(clu_probe_start(&cfg, err, sizeof(err)), 0);
	fire_timers();
	answer(0);
	answer(1);
	answer(2);
	/* The unit answered (a contact, no failure) but a LUN's identity is being read: nothing merged. */
	ck_assert_int_eq(merges, 0);
	ck_assert_int_eq(contacts_ok, 1);
	ck_assert_uint_eq(clu_m.ctr.probe_failures, 0);
	pending21 = 0;
	clu_probe_now();
	answer(3);
	answer(4);
	answer(5);
	ck_assert_int_eq(merges, 1);
	ck_assert_uint_eq(nmerged, 2);
}
END_TEST

START_TEST(silent_unit_counts_and_merges_nothing)
{
	char err[64] = "";

	ck_assert_int_eq(clu_probe_start(&cfg, err, sizeof(err)), 0);
	fire_timers();
	ck_assert_uint_eq(nreqs, 1);
	reqs[0].done(-ETIMEDOUT, NULL, reqs[0].arg);
	ck_assert_int_eq(merges, 0);
	ck_assert_uint_eq(clu_m.ctr.probe_failures, 1);
	ck_assert_int_eq(contacts_failed, 1);
	/* The next round asks again; an answer in the middle of the walks that fails is a failure too. */
	clu_probe_now();
	ck_assert_uint_eq(nreqs, 2);
	answer(1);
	ck_assert_uint_eq(nreqs, 3);
	reqs[2].done(-EIO, "genErr", reqs[2].arg);
	ck_assert_int_eq(merges, 0);
	ck_assert_uint_eq(clu_m.ctr.probe_failures, 2);
}
END_TEST

START_TEST(orphaned_walk_and_roles)
{
	char err[64] = "";

	ck_assert_int_eq(clu_probe_start(&cfg, err, sizeof(err)), 0);
	fire_timers();
	ck_assert_uint_eq(nreqs, 1);
	clu_probe_stop();
	/* The client still calls back: the walk stops reading and goes, nothing is merged. */
	answer(0);
	ck_assert_uint_eq(nreqs, 1);
	ck_assert_int_eq(merges, 0);
	/* A unit, or no peer user, or no interval: no probe. */
	cfg.role = "unit";
	ck_assert_int_eq(clu_probe_start(&cfg, err, sizeof(err)), 0);
	fire_timers();
	cfg.role = "host";
	cfg.peer_user.present = 0;
	ck_assert_int_eq(clu_probe_start(&cfg, err, sizeof(err)), 0);
	fire_timers();
	ck_assert_uint_eq(nreqs, 1);
	/* While the boot sync runs the first probe waits. */
	cfg.peer_user.present = 1;
	booting = 1;
	ck_assert_int_eq(clu_probe_start(&cfg, err, sizeof(err)), 0);
	fire_timers();
	ck_assert_uint_eq(nreqs, 1);
	booting = 0;
	fire_timers();
	ck_assert_uint_eq(nreqs, 2);
}
END_TEST

START_TEST(take_ignores_other_tables_and_columns)
{
	struct clu_probe_walk w = {0};
	struct clu_probed_controller *c;
	size_t n;
	uint32_t sess[] = {OBJ, 15, 1, 2, 1, 5}, bad[] = {OBJ, 13, 1, 2}, v6[] = {OBJ, 12, 1, 3, 4},
	         p6[] = {OBJ, 12, 1, 4, 4}, s6[] = {OBJ, 12, 1, 7, 4}, t[] = {OBJ, 13, 1, 2, 3};
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct cm_snmpc_vb vb = {.oid = sess, .oidlen = 16, .type = CM_SNMPC_STRING, .str = "x", .len = 1};

	ck_assert_int_eq(clu_probe_take(&w, &vb), 0);
	vb.oid = bad;
	vb.oidlen = 14;
	ck_assert_int_eq(clu_probe_take(&w, &vb), 0);
	ck_assert_uint_eq(w.ntargets + w.nluns + w.nportals, 0);
	vb = (struct cm_snmpc_vb){.oid = v6, .oidlen = 15, .type = CM_SNMPC_STRING, .str = (const char *)a6, .len = 16};
	clu_probe_take(&w, &vb);
	vb = (struct cm_snmpc_vb){.oid = p6, .oidlen = 15, .type = CM_SNMPC_UNSIGNED, .u = 3261};
	clu_probe_take(&w, &vb);
	vb = (struct cm_snmpc_vb){.oid = s6, .oidlen = 15, .type = CM_SNMPC_INTEGER, .i = 1};
	clu_probe_take(&w, &vb);
	vb = (struct cm_snmpc_vb){.oid = t, .oidlen = 15, .type = CM_SNMPC_STRING, .str = "iqn.t:c", .len = 7};
	clu_probe_take(&w, &vb);
	ck_assert_int_eq(clu_probe_build(&w, "", &c, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(c[0].portal, "[2001:db8::1]:3261");
	ck_assert_uint_eq(c[0].ndevices, 0);
	clu_probe_free(c, n);
	clu_probe_walk_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clu_probe");
	TCase *tc = tcase_create("probe");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, probe_walks_three_tables_and_merges);
	tcase_add_test(tc, pending_identity_waits_for_the_next_probe);
	tcase_add_test(tc, silent_unit_counts_and_merges_nothing);
	tcase_add_test(tc, orphaned_walk_and_roles);
	tcase_add_test(tc, take_ignores_other_tables_and_columns);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
