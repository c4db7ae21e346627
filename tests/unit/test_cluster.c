/* test_cluster.c: the cluster engine's CRT with the seed's Fig. 4 as the vector (hosts 108 and 110, unit 112 with
 * controllers 114A (devices 116A1, 116A2) and 114B (116B1), unit 118 dedicated to 110 with controller 120 and
 * device 122A): built by probes and one ownership change, every rule violated once with the table unchanged, the
 * allocation lock, versions, adoption (newer, older, conflict), granularity, probe merges and a restart. */
#define _GNU_SOURCE /* nftw */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/evloop.h"
#include "common/state.h"
#include "engines/cluster/cluster.h"
#include "engines/registry.h"
#include "tests/unit/tmpdir.h"

/* The parts that may use the loop get one whose timers exist but never fire. */
#define EVLOOP_STUB_TIMER_ID 1
#include "tests/unit/evloop_stub.h"

/* ---- the fixture ------------------------------------------------------------------------------------------ */

#define I108 "iqn.2026-01.org.sanagent:host108"
#define I110 "iqn.2026-01.org.sanagent:host110"
#define T114A "iqn.2026-01.org.sanagent:unit112.114a"
#define T114B "iqn.2026-01.org.sanagent:unit112.114b"
#define T120 "iqn.2026-01.org.sanagent:unit118.120"

static char dir[256], path[300];
static struct cm_state *st;
static struct sa_clu_member_cfg mcfg[] = {
    {"host", "0000000000000108", "udp:198.18.0.108:161", I108, NULL},
    {"host", "0000000000000110", "udp:198.18.0.110:161", I110, NULL},
    {"unit", "0000000000000112", "udp:198.18.0.112:161", "unit112", NULL},
    {"unit", "0000000000000118", "udp:198.18.0.118:161", "unit118", NULL},
};
static struct sa_cluster_config cfg = {
    .role = "host",
    .guid = "0000000000000108",
    .initiator_name = I108,
    .granularity = "device",
    .poll_interval = 0,
    .sync_interval = 0,
    .ownership_grace = 5,
    .state_key = "cluster",
    .members = mcfg,
    .nmembers = 4,
};

/* Row indexes: members first (config order), then what the probes add. */
enum { H108 = 1, H110, U112, U118, C114A, D116A1, D116A2, C114B, D116B1, C120, D122A };

static struct clu_event evs[64];
static size_t nevs;
static int sub;

static void on_event(int topic, const void *e, void *arg)
{
	(void)topic;
	(void)arg;
	if (nevs < 64)
		evs[nevs++] = *(const struct clu_event *)e;
}

static size_t count_events(int type)
{
	size_t n = 0;

	for (size_t i = 0; i < nevs; i++)
		n += evs[i].type == type;
	return n;
}

static void open_state(void)
{
	ck_assert_int_eq(cm_state_open(path, &st, NULL), 0);
	sa_engines_set_state(st);
}

static void start(void)
{
	char err[256] = "";

	open_state();
	ck_assert_msg(clu_start(&cfg, err, sizeof(err)) == 0, "%s", err);
}

static void restart(void)
{
	char err[256] = "";

	clu_stop();
	sa_engines_set_state(NULL);
	cm_state_close(st);
	open_state();
	ck_assert_msg(clu_start(&cfg, err, sizeof(err)) == 0, "%s", err);
}

static void dev(struct clu_probed_device *d, uint32_t lun, uint8_t naa_last)
{
	memset(d, 0, sizeof(*d));
	d->lun = lun;
	d->designator_len = 16;
	d->designator[0] = 0x60;
	d->designator[15] = naa_last;
	snprintf(d->vendor, sizeof(d->vendor), "IET");
	snprintf(d->model, sizeof(d->model), "VIRTUAL-DISK");
	d->size = 1048576ull * lun;
}

static struct clu_probed_device d114a[3], d114b[1], d120[1];
static struct clu_probed_controller u112[2], u118[1];

static void probe_all(void)
{
	dev(&d114a[0], 1, 0xa1);
	dev(&d114a[1], 2, 0xa2);
	dev(&d114b[0], 1, 0xb1);
	dev(&d120[0], 1, 0xc1);
	u112[0] = (struct clu_probed_controller){.tid = 1, .devices = d114a, .ndevices = 2};
	snprintf(u112[0].iqn, sizeof(u112[0].iqn), T114A);
	snprintf(u112[0].portal, sizeof(u112[0].portal), "198.18.0.112:3260");
	u112[1] = (struct clu_probed_controller){.tid = 2, .devices = d114b, .ndevices = 1};
	snprintf(u112[1].iqn, sizeof(u112[1].iqn), T114B);
	snprintf(u112[1].portal, sizeof(u112[1].portal), "198.18.0.112:3260");
	u118[0] = (struct clu_probed_controller){.tid = 1, .devices = d120, .ndevices = 1};
	snprintf(u118[0].iqn, sizeof(u118[0].iqn), T120);
	snprintf(u118[0].portal, sizeof(u118[0].portal), "198.18.0.118:3260");
	ck_assert_int_eq(clu_probe_merge(U112, u112, 2), 0);
	ck_assert_int_eq(clu_probe_merge(U118, u118, 1), 0);
}

static struct clu_change own(uint32_t index, int ownership, size_t n, uint32_t a, uint32_t b)
{
	struct clu_change c = {.index = index, .ownership = ownership, .set_owners = 1, .nowners = n};

	c.owners[0] = a;
	c.owners[1] = b;
	return c;
}

/* The seed's Fig. 4 ownership as one change. */
static void allocate_fig4(void)
{
	struct clu_change ch[] = {
	    own(U112, CLU_SHARED, 2, H108, H110),   own(C114A, CLU_SHARED, 2, H108, H110),
	    own(D116A1, CLU_DEDICATED, 1, H108, 0), own(D116A2, CLU_DEDICATED, 1, H110, 0),
	    own(C114B, CLU_SHARED, 2, H108, H110),  own(D116B1, CLU_SHARED, 2, H108, H110),
	    own(U118, CLU_DEDICATED, 1, H110, 0),   own(C120, CLU_DEDICATED, 1, H110, 0),
	    own(D122A, CLU_DEDICATED, 1, H110, 0),
	};
	size_t n = sizeof(ch) / sizeof(ch[0]);

	ck_assert_int_eq(clu_check(ch, n), 0);
	ck_assert_int_eq(clu_apply(ch, n), 0);
}

static void setup(void)
{
	ut_tmpdir_make(dir, sizeof(dir), "test_cluster");
	snprintf(path, sizeof(path), "%s/state", dir);
	nevs = 0;
	sub = bus_subscribe(BUS_CLUSTER, on_event, NULL);
	start();
	probe_all();
	allocate_fig4();
}

static void teardown(void)
{
	clu_stop();
	sa_engines_set_state(NULL);
	cm_state_close(st);
	bus_unsubscribe(sub);
	ut_tmpdir_remove(dir);
}

/* A copy of the whole table, to show that a refused change left it as it was. */
struct snap {
	struct clu_version v;
	size_t n;
	struct clu_res rows[32];
};

static void take(struct snap *s)
{
	s->n = 0;
	clu_version_get(&s->v);
	for (uint32_t i = 0; clu_res_next(i, &i) == 0 && s->n < 32;)
		s->rows[s->n++] = *clu_res_get(i);
}

static void same(const struct snap *a)
{
	struct snap b;

	take(&b);
	ck_assert_int_eq(clu_version_cmp(&a->v, &b.v), 0);
	ck_assert_uint_eq(a->n, b.n);
	ck_assert_int_eq(memcmp(a->rows, b.rows, a->n * sizeof(a->rows[0])), 0);
}

static void owners_are(uint32_t index, int ownership, size_t n, uint32_t a, uint32_t b)
{
	const struct clu_res *r = clu_res_get(index);

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->ownership == ownership, "row %u ownership %d, want %d", index, r->ownership, ownership);
	ck_assert_uint_eq(r->nowners, n);
	if (n > 0)
		ck_assert_uint_eq(r->owners[0], a);
	if (n > 1)
		ck_assert_uint_eq(r->owners[1], b);
}

/* ---- the table of Fig. 4 ---------------------------------------------------------------------------------- */

START_TEST(fig4_built)
{
	const struct clu_res *r;
	struct clu_version v;

	ck_assert_uint_eq(clu_res_count(), 11);
	ck_assert_uint_eq(clu_member_count(), 4);
	r = clu_res_get(H108);
	ck_assert_int_eq(r->type, CLU_HOST);
	ck_assert_str_eq(r->name, I108);
	owners_are(H108, CLU_DEDICATED, 1, H108, 0);
	ck_assert_int_eq(clu_res_get(U112)->type, CLU_UNIT);
	r = clu_res_get(C114A);
	ck_assert_int_eq(r->type, CLU_CONTROLLER);
	ck_assert_str_eq(r->name, T114A);
	ck_assert_uint_eq(r->parent, U112);
	ck_assert_uint_eq(r->number, 1);
	r = clu_res_get(D116A2);
	ck_assert_int_eq(r->type, CLU_DEVICE);
	ck_assert_uint_eq(r->parent, C114A);
	ck_assert_uint_eq(r->number, 2);
	ck_assert_uint_eq(r->guid_len, 16);
	ck_assert_str_eq(r->vendor, "IET");
	ck_assert_uint_eq(clu_res_get(D122A)->parent, C120);
	ck_assert_uint_eq(clu_res_get(C120)->parent, U118);
	/* Membership rows (1), two probes (2, 3), the allocation (4). */
	clu_version_get(&v);
	ck_assert_uint_eq(v.counter, 4);
	ck_assert_uint_eq(v.writer[7], 0x08);
	owners_are(D116A1, CLU_DEDICATED, 1, H108, 0);
	owners_are(D116A2, CLU_DEDICATED, 1, H110, 0);
	owners_are(D116B1, CLU_SHARED, 2, H108, H110);
	owners_are(U118, CLU_DEDICATED, 1, H110, 0);
	owners_are(D122A, CLU_DEDICATED, 1, H110, 0);
	ck_assert_uint_eq(clu_res_get(D122A)->version, 4);
	/* Host 108 may use 116A1 and 116B1 and nothing else (the seed's example). */
	ck_assert_ptr_nonnull(clu_self());
	ck_assert_uint_eq(clu_self()->index, H108);
	ck_assert_int_eq(clu_host_may_use_lun(T114A, 1), 0);
	ck_assert_int_eq(clu_host_may_use_lun(T114A, 2), -EACCES);
	ck_assert_int_eq(clu_host_may_use_lun(T114B, 1), 0);
	ck_assert_int_eq(clu_host_may_use_lun(T120, 1), -EACCES);
	ck_assert_int_eq(clu_host_may_use_target(T114A), 0);
	ck_assert_int_eq(clu_host_may_use_target(T120), -EACCES);
	ck_assert_int_eq(clu_host_may_use_target("iqn.2026-01.org.example:not-in-the-crt"), 0);
	ck_assert_uint_eq(count_events(CLU_EV_NEW_DEVICE), 7);
}
END_TEST

/* Every rule broken once: -EDOM (inconsistentValue), and the table as it was. */
START_TEST(fig4_rules)
{
	struct snap s;
	struct clu_counters k;
	struct {
		const char *what;
		struct clu_change ch[2];
		size_t n;
		int rc;
	} cases[] = {
	    {"child owners not a subset: 114B shared by 108 alone while 116B1 is shared by both",
	     {own(C114B, CLU_SHARED, 1, H108, 0)},
	     1,
	     -EDOM},
	    {"under a dedicated parent a child dedicated to another host",
	     {own(D122A, CLU_DEDICATED, 1, H108, 0)},
	     1,
	     -EDOM},
	    {"under a dedicated parent a shared child", {own(D122A, CLU_SHARED, 1, H110, 0)}, 1, -EDOM},
	    {"under a shared parent a child dedicated to a non-owner",
	     {own(C114B, CLU_SHARED, 1, H108, 0), own(D116B1, CLU_DEDICATED, 1, H110, 0)},
	     2,
	     -EDOM},
	    {"under a shared parent a child shared beyond it",
	     {own(C114A, CLU_SHARED, 1, H110, 0), own(D116A1, CLU_SHARED, 2, H108, H110)},
	     2,
	     -EDOM},
	    {"allocated under an unallocated parent", {own(U118, CLU_UNALLOCATED, 0, 0, 0)}, 1, -EDOM},
	    {"dedicated to two hosts", {own(D116B1, CLU_DEDICATED, 2, H108, H110)}, 1, -EDOM},
	    {"shared by nobody", {own(D116B1, CLU_SHARED, 0, 0, 0)}, 1, -EDOM},
	    {"unallocated with an owner", {own(D116B1, CLU_UNALLOCATED, 1, H108, 0)}, 1, -EDOM},
	    {"an owner that is not a host", {own(D116B1, CLU_SHARED, 1, U112, 0)}, 1, -EDOM},
	    {"a host row given away", {own(H108, CLU_DEDICATED, 1, H110, 0)}, 1, -EDOM},
	    {"no such row", {own(999, CLU_SHARED, 1, H108, 0)}, 1, -ENOENT},
	    {"no such ownership", {own(D116B1, 7, 1, H108, 0)}, 1, -EINVAL},
	    {"an owner twice", {own(D116B1, CLU_SHARED, 2, H108, H108)}, 1, -EINVAL},
	};

	take(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(clu_check(cases[i].ch, cases[i].n) == cases[i].rc, "check: %s", cases[i].what);
		ck_assert_msg(clu_apply(cases[i].ch, cases[i].n) == cases[i].rc, "apply: %s", cases[i].what);
		same(&s);
	}
	clu_counters_get(&k);
	ck_assert_uint_eq(k.consistency_rejected, 11);
	ck_assert_uint_eq(k.changes, 1);
	/* Unallocated anywhere is fine (a new device waits for its owner), and it clears the owner list. */
	{
		struct clu_change c = {.index = D116A1, .ownership = CLU_UNALLOCATED};

		ck_assert_int_eq(clu_apply(&c, 1), 0);
		owners_are(D116A1, CLU_UNALLOCATED, 0, 0, 0);
	}
	/* A parent's change that keeps its children consistent passes: 118 and everything below to 108. */
	{
		struct clu_change ch[] = {own(U118, CLU_DEDICATED, 1, H108, 0), own(C120, CLU_DEDICATED, 1, H108, 0),
		                          own(D122A, CLU_DEDICATED, 1, H108, 0)};

		ck_assert_int_eq(clu_apply(ch, 3), 0);
		ck_assert_int_eq(clu_host_may_use_target(T120), 0);
	}
}
END_TEST

START_TEST(granularity_controller)
{
	struct clu_change c = own(C114A, CLU_DEDICATED, 1, H110, 0);
	struct snap s;

	ck_assert_int_eq(clu_granularity_set(3), -EINVAL);
	ck_assert_int_eq(clu_granularity_set(CLU_GRAN_CONTROLLER), 0);
	ck_assert_int_eq(clu_granularity(), CLU_GRAN_CONTROLLER);
	/* A device alone no longer moves... */
	take(&s);
	{
		struct clu_change d = own(D116B1, CLU_DEDICATED, 1, H108, 0);

		ck_assert_int_eq(clu_check(&d, 1), -EDOM);
	}
	same(&s);
	/* ...its controller carries it: 116A1 (was 108's) and 116A2 follow 114A to 110. */
	ck_assert_int_eq(clu_apply(&c, 1), 0);
	owners_are(D116A1, CLU_DEDICATED, 1, H110, 0);
	owners_are(D116A2, CLU_DEDICATED, 1, H110, 0);
	ck_assert_int_eq(clu_host_may_use_target(T114A), -EACCES);
	/* A device named with the same ownership as its controller is fine. */
	{
		struct clu_change ch[] = {own(C114A, CLU_SHARED, 2, H108, H110),
		                          own(D116A2, CLU_SHARED, 2, H108, H110)};

		ck_assert_int_eq(clu_apply(ch, 2), 0);
		owners_are(D116A1, CLU_SHARED, 2, H108, H110);
	}
}
END_TEST

START_TEST(lock)
{
	ck_assert_int_eq(clu_lock_value(), 0);
	ck_assert_int_eq(clu_lock_check(0), 0);
	clu_lock_incr();
	/* Two managers read 0; the first won; the second's 0 is stale. */
	ck_assert_int_eq(clu_lock_check(0), -ESTALE);
	ck_assert_int_eq(clu_lock_value(), 1);
	ck_assert_int_eq(clu_lock_check(1), 0);
	clu_lock_incr();
	ck_assert_int_eq(clu_lock_value(), 2);
}
END_TEST

START_TEST(versions)
{
	struct clu_version a = {.counter = 1}, b = {.counter = 2}, c = {.counter = 2};

	a.writer[7] = 9;
	b.writer[7] = 1;
	c.writer[7] = 2;
	ck_assert_int_lt(clu_version_cmp(&a, &b), 0); /* the counter first: a later change wins whatever its writer */
	ck_assert_int_gt(clu_version_cmp(&b, &a), 0);
	ck_assert_int_lt(clu_version_cmp(&b, &c), 0); /* same counter: the higher writer GUID */
	ck_assert_int_eq(clu_version_cmp(&c, &c), 0);
}
END_TEST

/* A table like ours, as a peer would send it. */
static struct clu_res trows[32];

static struct clu_table copy_table(uint32_t counter, uint8_t writer_last)
{
	struct clu_table t = {.rows = trows, .granularity = CLU_GRAN_DEVICE};

	for (uint32_t i = 0; clu_res_next(i, &i) == 0;)
		trows[t.nrows++] = *clu_res_get(i);
	t.version.counter = counter;
	t.version.writer[6] = 0x01; /* the hosts' GUIDs are 00..01WW */
	t.version.writer[7] = writer_last;
	return t;
}

START_TEST(adopt_newer_older)
{
	struct clu_table t = copy_table(10, 0x10);
	struct clu_version v;
	struct clu_counters k;

	/* 110 moved 116B1 to itself at version 10. */
	trows[D116B1 - 1].ownership = CLU_DEDICATED;
	trows[D116B1 - 1].nowners = 1;
	trows[D116B1 - 1].owners[0] = H110;
	trows[D116B1 - 1].version = 10;
	nevs = 0;
	ck_assert_int_eq(clu_adopt(&t, "udp:198.18.0.110:161"), 0);
	clu_version_get(&v);
	ck_assert_uint_eq(v.counter, 10);
	ck_assert_uint_eq(v.writer[7], 0x10);
	owners_are(D116B1, CLU_DEDICATED, 1, H110, 0);
	ck_assert_int_eq(clu_host_may_use_lun(T114B, 1), -EACCES);
	ck_assert_uint_eq(count_events(CLU_EV_CHANGED), 1);
	ck_assert_int_eq(evs[0].adopted, 1);
	ck_assert_uint_eq(count_events(CLU_EV_CONFLICT), 0); /* our last change (version 4) is in it */
	/* Older, and the same again: nothing. */
	t = copy_table(9, 0x10);
	ck_assert_int_eq(clu_adopt(&t, "peer"), -EALREADY);
	t = copy_table(10, 0x10);
	ck_assert_int_eq(clu_adopt(&t, "peer"), -EALREADY);
	clu_counters_get(&k);
	ck_assert_uint_eq(k.adoptions, 1);
	ck_assert_uint_eq(k.conflicts, 0);
	/* It survives a restart. */
	restart();
	clu_version_get(&v);
	ck_assert_uint_eq(v.counter, 10);
	owners_are(D116B1, CLU_DEDICATED, 1, H110, 0);
}
END_TEST

START_TEST(adopt_conflict)
{
	struct clu_table t;
	struct clu_version v, mine;
	struct clu_change c = own(D116B1, CLU_DEDICATED, 1, H108, 0);
	const struct clu_conflict *k;
	uint32_t ki;

	/* Base 4.  Here (writer ...08): 116B1 to 108 -> 5/08.  Meanwhile 110 (writer ...10): 116A1 to 110 ->
	 * 5/10, which did not see ours.  The higher writer wins; ours is re-applied on top as 6/08. */
	t = copy_table(5, 0x10);
	trows[D116A1 - 1].owners[0] = H110;
	trows[D116A1 - 1].version = 5;
	ck_assert_int_eq(clu_apply(&c, 1), 0);
	clu_version_get(&mine);
	ck_assert_uint_eq(mine.counter, 5);
	nevs = 0;
	ck_assert_int_eq(clu_adopt(&t, "udp:198.18.0.110:161"), 0);
	clu_version_get(&v);
	ck_assert_uint_eq(v.counter, 6);
	ck_assert_uint_eq(v.writer[7], 0x08);
	owners_are(D116A1, CLU_DEDICATED, 1, H110, 0); /* theirs */
	owners_are(D116B1, CLU_DEDICATED, 1, H108, 0); /* ours, not lost */
	ck_assert_uint_eq(count_events(CLU_EV_CONFLICT), 1);
	for (size_t i = 0; i < nevs; i++)
		if (evs[i].type == CLU_EV_CONFLICT) {
			ck_assert_int_eq(clu_version_cmp(&evs[i].version, &mine), 0);
			ck_assert_uint_eq(evs[i].other.counter, 5);
			ck_assert_uint_eq(evs[i].other.writer[7], 0x10);
		}
	ck_assert_int_eq(clu_conflict_next(0, &ki), 0);
	k = clu_conflict_get(ki);
	ck_assert_uint_eq(k->lost.counter, 5);
	ck_assert_uint_eq(k->won.writer[7], 0x10);
	ck_assert_ptr_nonnull(strstr(k->detail, "re-applied as version 6"));

	/* A peer's 6/01 on the same base loses to our 6/08: kept ours, conflict recorded once. */
	t = copy_table(6, 0x01);
	ck_assert_int_eq(clu_adopt(&t, "udp:198.18.0.109:161"), -EALREADY); /* the same table: no conflict */
	ck_assert_int_eq(clu_conflict_next(ki, &ki), -ENOENT);
	trows[D116B1 - 1].owners[0] = H110;
	ck_assert_int_eq(clu_adopt(&t, "udp:198.18.0.109:161"), -EALREADY);
	ck_assert_int_eq(clu_adopt(&t, "udp:198.18.0.109:161"), -EALREADY);
	ck_assert_int_eq(clu_conflict_next(ki, &ki), 0);
	ck_assert_int_eq(clu_conflict_next(ki, &ki), -ENOENT);

	/* A winner under which our change no longer fits: reported, not re-applied. */
	{
		struct clu_change d = own(D116A2, CLU_SHARED, 2, H108, H110);
		struct clu_change p = own(C114A, CLU_SHARED, 2, H108, H110);

		(void)p;
		ck_assert_int_eq(clu_apply(&d, 1), 0); /* 7/08 */
		t = copy_table(7, 0x10);
		trows[D116A2 - 1].ownership = CLU_DEDICATED;
		trows[D116A2 - 1].nowners = 1;
		trows[D116A2 - 1].owners[0] = H110;
		trows[D116A1 - 1].ownership = CLU_DEDICATED;
		trows[D116A1 - 1].owners[0] = H110;
		trows[D116A1 - 1].nowners = 1;
		trows[C114A - 1].ownership = CLU_DEDICATED;
		trows[C114A - 1].nowners = 1;
		trows[C114A - 1].owners[0] = H110;
		ck_assert_int_eq(clu_adopt(&t, "udp:198.18.0.110:161"), 0);
		clu_version_get(&v);
		ck_assert_uint_eq(v.counter, 7);
		ck_assert_int_eq(clu_conflict_next(ki, &ki), 0);
		ck_assert_ptr_nonnull(strstr(clu_conflict_get(ki)->detail, "not re-applied"));
	}
}
END_TEST

START_TEST(probe_new_gone_back)
{
	struct clu_counters k;
	const struct clu_res *r;
	uint32_t idx;

	/* 116A3 added to 114A: a new row, unallocated, announced. */
	dev(&d114a[2], 3, 0xa3);
	u112[0].ndevices = 3;
	nevs = 0;
	ck_assert_int_eq(clu_probe_merge(U112, u112, 2), 0);
	idx = D122A + 1;
	r = clu_res_get(idx);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, CLU_DEVICE);
	ck_assert_int_eq(r->ownership, CLU_UNALLOCATED);
	ck_assert_uint_eq(r->parent, C114A);
	ck_assert_uint_eq(count_events(CLU_EV_NEW_DEVICE), 1);
	ck_assert_uint_eq(evs[nevs - 1].index, idx);
	/* The same probe again changes nothing. */
	nevs = 0;
	ck_assert_int_eq(clu_probe_merge(U112, u112, 2), 0);
	ck_assert_uint_eq(nevs, 0);
	/* 116A2 gone: marked invalid, kept with its owner. */
	d114a[1] = d114a[2];
	u112[0].ndevices = 2;
	ck_assert_int_eq(clu_probe_merge(U112, u112, 2), 0);
	ck_assert_int_eq(clu_res_get(D116A2)->valid, 0);
	owners_are(D116A2, CLU_DEDICATED, 1, H110, 0);
	ck_assert_uint_eq(count_events(CLU_EV_DEVICE_GONE), 1);
	/* Back: valid again, same row. */
	dev(&d114a[1], 2, 0xa2);
	u112[0].ndevices = 3;
	ck_assert_int_eq(clu_probe_merge(U112, u112, 2), 0);
	ck_assert_int_eq(clu_res_get(D116A2)->valid, 1);
	ck_assert_uint_eq(clu_res_count(), 12);
	/* The same LU through both controllers of 112 is one device with two paths. */
	d114b[0] = d114a[0];
	ck_assert_int_eq(clu_probe_merge(U112, u112, 2), 0);
	ck_assert_uint_eq(clu_res_get(D116A1)->paths, 2);
	/* ...and probing it again changes nothing (no new version every poll). */
	{
		struct clu_version v1, v2;

		clu_version_get(&v1);
		ck_assert_int_eq(clu_probe_merge(U112, u112, 2), 0);
		clu_version_get(&v2);
		ck_assert_int_eq(clu_version_cmp(&v1, &v2), 0);
	}
	ck_assert_int_eq(clu_res_get(D116B1)->valid, 0);
	clu_counters_get(&k);
	ck_assert_uint_eq(k.new_devices, 8);
	ck_assert_uint_eq(k.devices_gone, 2);
	ck_assert_int_eq(clu_probe_merge(D116A1, u112, 2), -ENOENT); /* not a unit */
}
END_TEST

START_TEST(restart_keeps_table)
{
	struct snap s;

	take(&s);
	restart();
	same(&s);
	ck_assert_uint_eq(clu_member_count(), 4);
	ck_assert_str_eq(clu_member_get(3)->name, "unit112");
	/* A member set over SNMP keeps its index; a config member cannot be destroyed. */
	{
		struct clu_member m = {.index = 5, .type = CLU_UNIT, .guid = {0, 0, 0, 0, 0, 0, 1, 0x19}};

		snprintf(m.address, sizeof(m.address), "udp:198.18.0.119:161");
		snprintf(m.name, sizeof(m.name), "unit119");
		ck_assert_uint_eq(clu_member_next_index(), 5);
		ck_assert_int_eq(clu_member_check(&m, 0), 0);
		ck_assert_int_eq(clu_member_put(&m), 0);
		ck_assert_int_eq(clu_member_del(1), -EPERM);
		m.index = 6;
		ck_assert_int_eq(clu_member_check(&m, 0), -EEXIST); /* its GUID is member 5's */
	}
	ck_assert_ptr_nonnull(clu_res_find_name(CLU_UNIT, "unit119"));
	take(&s);
	restart();
	same(&s);
	ck_assert_uint_eq(clu_member_count(), 5);
	ck_assert_int_eq(clu_member_del(5), 0);
	ck_assert_int_eq(clu_res_find_name(CLU_UNIT, "unit119")->valid, 0);
	/* A reload without unit 118: its member goes, its row stays, invalid; the others keep their indexes. */
	{
		char err[256] = "";

		cfg.nmembers = 3;
		ck_assert_msg(clu_reload(&cfg, err, sizeof(err)) == 0, "%s", err);
		cfg.nmembers = 4;
		ck_assert_ptr_null(clu_member_get(4));
		ck_assert_str_eq(clu_member_get(3)->name, "unit112");
		ck_assert_int_eq(clu_res_get(U118)->valid, 0);
		owners_are(U118, CLU_DEDICATED, 1, H110, 0);
	}
}
END_TEST

/* A unit with 20,000 devices behind two controllers (each LU through both): merged in linear time, and probing it
 * again makes no new version. */
START_TEST(probe_large)
{
	enum { NDEV = 10000 };
	struct clu_probed_device *a = calloc(NDEV, sizeof(*a)), *b = calloc(NDEV, sizeof(*b));
	struct clu_probed_controller c[2];
	struct clu_version v1, v2;
	size_t before = clu_res_count();

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (uint32_t i = 0; i < NDEV; i++) {
		a[i].lun = i + 1;
		a[i].designator_len = 16;
		a[i].designator[0] = 0x60;
		a[i].designator[13] = (uint8_t)(i >> 16);
		a[i].designator[14] = (uint8_t)(i >> 8);
		a[i].designator[15] = (uint8_t)i;
		a[i].designator[12] = 0x77;
		b[i] = a[i];
	}
	c[0] = (struct clu_probed_controller){.tid = 7, .devices = a, .ndevices = NDEV};
	snprintf(c[0].iqn, sizeof(c[0].iqn), "iqn.2026-01.org.sanagent:unit118.big1");
	c[1] = (struct clu_probed_controller){.tid = 8, .devices = b, .ndevices = NDEV};
	snprintf(c[1].iqn, sizeof(c[1].iqn), "iqn.2026-01.org.sanagent:unit118.big2");
	{
		struct clu_probed_controller all[3] = {u118[0], c[0], c[1]};

		ck_assert_int_eq(clu_probe_merge(U118, all, 3), 0);
		ck_assert_uint_eq(clu_res_count(), before + 2 + NDEV);
		ck_assert_uint_eq(clu_res_get(D122A + 3)->paths, 2);
		clu_version_get(&v1);
		ck_assert_int_eq(clu_probe_merge(U118, all, 3), 0);
		clu_version_get(&v2);
		ck_assert_int_eq(clu_version_cmp(&v1, &v2), 0);
	}
	free(a);
	free(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("crt");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fig4_built);
	tcase_add_test(tc, fig4_rules);
	tcase_add_test(tc, granularity_controller);
	tcase_add_test(tc, lock);
	tcase_add_test(tc, versions);
	tcase_add_test(tc, adopt_newer_older);
	tcase_add_test(tc, adopt_conflict);
	tcase_add_test(tc, probe_new_gone_back);
	tcase_add_test(tc, restart_keeps_table);
	tcase_add_test(tc, probe_large);
	suite_add_tcase(s, tc);
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
