/* test_table.c: the table framework in-process: tables on fixture engines, requests through net-snmp's agent, no snmpd.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/table.h"
#include "tests/unit/agent_session.h"

/* ---- fixture engine: servers and maps, kept sorted, with verbs that may be told to fail ---------------------- */

#define FX_MAX 64

struct fx_srv {
	uint32_t index;
	char name[33];
	uint32_t capacity;
};
struct fx_map {
	uint32_t a, b;
	char target[224];
	uint32_t server;
};

static struct fx_srv srvs[FX_MAX];
static size_t nsrv;
static struct fx_map maps[FX_MAX];
static size_t nmap;
static uint32_t fail_capacity; /* the capacity verb fails with -EFAULT for this value */

static struct fx_srv *fx_srv_find(uint32_t index)
{
	for (size_t i = 0; i < nsrv; i++)
		if (srvs[i].index == index)
			return &srvs[i];
	return NULL;
}

static int fx_srv_add(uint32_t index, const char *name, uint32_t capacity)
{
	size_t p = 0;

	if (nsrv == FX_MAX || fx_srv_find(index))
		return -EEXIST;
	while (p < nsrv && srvs[p].index < index)
		p++;
	memmove(&srvs[p + 1], &srvs[p], (nsrv - p) * sizeof(srvs[0]));
	srvs[p].index = index;
	snprintf(srvs[p].name, sizeof(srvs[p].name), "%s", name);
	srvs[p].capacity = capacity;
	nsrv++;
	return 0;
}

static int fx_srv_del(uint32_t index)
{
	struct fx_srv *s = fx_srv_find(index);

	if (!s)
		return -ENOENT;
	memmove(s, s + 1, (size_t)(&srvs[nsrv] - (s + 1)) * sizeof(*s));
	nsrv--;
	return 0;
}

static int fx_srv_validate(uint32_t index, const char *name)
{
	if (fx_srv_find(index))
		return -EEXIST;
	for (size_t i = 0; i < nsrv; i++)
		if (!strcmp(srvs[i].name, name))
			return -EEXIST;
	return 0;
}

static int fx_srv_set_capacity(uint32_t index, uint32_t capacity)
{
	struct fx_srv *s = fx_srv_find(index);

	if (!s)
		return -ENOENT;
	if (capacity == fail_capacity)
		return -EFAULT;
	s->capacity = capacity;
	return 0;
}

static struct fx_map *fx_map_find(uint32_t a, uint32_t b)
{
	for (size_t i = 0; i < nmap; i++)
		if (maps[i].a == a && maps[i].b == b)
			return &maps[i];
	return NULL;
}

static int fx_map_add(uint32_t a, uint32_t b, const char *target, uint32_t server)
{
	size_t p = 0;

	if (nmap == FX_MAX || fx_map_find(a, b))
		return -EEXIST;
	if (server && !fx_srv_find(server))
		return -ENOENT;
	while (p < nmap && (maps[p].a < a || (maps[p].a == a && maps[p].b < b)))
		p++;
	memmove(&maps[p + 1], &maps[p], (nmap - p) * sizeof(maps[0]));
	maps[p].a = a;
	maps[p].b = b;
	snprintf(maps[p].target, sizeof(maps[p].target), "%s", target);
	maps[p].server = server;
	nmap++;
	return 0;
}

static int fx_map_del(uint32_t a, uint32_t b)
{
	struct fx_map *m = fx_map_find(a, b);

	if (!m)
		return -ENOENT;
	memmove(m, m + 1, (size_t)(&maps[nmap] - (m + 1)) * sizeof(*m));
	nmap--;
	return 0;
}

/* ---- the fixture tables, written as every table file is -------------------------------------------------- */

#define FX_ROOT 1, 3, 6, 1, 4, 1, 32473, 99
static const oid srv_oid[] = {FX_ROOT, 1};
static const oid map_oid[] = {FX_ROOT, 2};
static const oid ro_oid[] = {FX_ROOT, 3};

enum { SRV_INDEX = 1, SRV_NAME, SRV_CAPACITY, SRV_NOTIFY, SRV_STORAGE, SRV_ROW_STATUS };
enum { MAP_A = 1, MAP_B, MAP_TARGET, MAP_SERVER, MAP_ROW_STATUS };

static const struct h_column srv_cols[] = {
    {SRV_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {SRV_NAME, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 1, 32},
    {SRV_CAPACITY, H_RC, H_SYN_UINT, 0, 1, 100},
    {SRV_NOTIFY, H_NOTIFY, H_SYN_ANY, 0, 0, 0},
    {SRV_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {SRV_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct srv_image {
	char name[33];
	uint32_t capacity;
	int storage;
};

static int srv_next(const uint32_t *after, uint32_t *out)
{
	for (size_t i = 0; i < nsrv; i++)
		if (!after || srvs[i].index > after[0]) {
			out[0] = srvs[i].index;
			return 0;
		}
	return -ENOENT;
}

static int srv_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct fx_srv *s = fx_srv_find(idx[0]);

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case SRV_NAME: h_set_str(vb, s->name, sizeof(s->name)); break;
	case SRV_CAPACITY: h_set_u32(vb, ASN_UNSIGNED, s->capacity); break;
	case SRV_STORAGE: h_set_int(vb, ST_NONVOLATILE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int srv_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct srv_image *w = image;

	switch (col) {
	case SRV_NAME: h_set_str(vb, w->name, sizeof(w->name)); break;
	case SRV_CAPACITY: h_set_u32(vb, ASN_UNSIGNED, w->capacity); break;
	case SRV_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int srv_load(const uint32_t *idx, void *image)
{
	const struct fx_srv *s = fx_srv_find(idx[0]);
	struct srv_image *w = image;

	if (!s)
		return -ENOENT;
	snprintf(w->name, sizeof(w->name), "%s", s->name);
	w->capacity = s->capacity;
	w->storage = ST_NONVOLATILE;
	return 0;
}

static void srv_defaults(void *image, const uint32_t *idx)
{
	struct srv_image *w = image;

	(void)idx;
	w->capacity = 1;
	w->storage = ST_NONVOLATILE;
}

static int srv_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct srv_image *w = image;

	switch (col) {
	case SRV_NAME: return h_put_str(w->name, sizeof(w->name), vb);
	case SRV_CAPACITY: return h_put_u32(&w->capacity, vb);
	case SRV_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int srv_ready(const void *image)
{
	return ((const struct srv_image *)image)->name[0] != 0;
}

static int srv_check(struct h_row *row, struct h_txn *txn)
{
	const struct srv_image *w = row->work;

	(void)txn;
	if (row->op == H_OP_CREATE)
		return fx_srv_validate(row->idx[0], w->name);
	if (row->op == H_OP_DESTROY && row->idx[0] == 1)
		return -EPERM; /* the fixture's "config row" */
	return 0;
}

static int srv_action(struct h_row *row, struct h_txn *txn)
{
	const struct srv_image *w = row->work;
	int rc;

	(void)txn;
	if (row->op == H_OP_CREATE) {
		if ((rc = fx_srv_add(row->idx[0], w->name, 1)) < 0)
			return rc;
		row->done = 1;
		return fx_srv_set_capacity(row->idx[0], w->capacity);
	}
	if (h_row_changed(row, SRV_CAPACITY)) {
		if ((rc = fx_srv_set_capacity(row->idx[0], w->capacity)) < 0)
			return rc;
		row->done = 2;
	}
	return 0;
}

static int srv_undo(struct h_row *row)
{
	const struct srv_image *old = row->old;
	int rc = 0;

	if (row->done == 1)
		rc = fx_srv_del(row->idx[0]);
	else if (row->done == 2)
		rc = fx_srv_set_capacity(row->idx[0], old->capacity);
	row->done = 0;
	return rc;
}

static int srv_commit(struct h_row *row)
{
	return row->op == H_OP_DESTROY ? fx_srv_del(row->idx[0]) : 0;
}

static const struct h_table_ops srv_ops = {
    .next = srv_next,
    .get = srv_get,
    .get_work = srv_get_work,
    .load = srv_load,
    .defaults = srv_defaults,
    .store = srv_store,
    .ready = srv_ready,
    .check = srv_check,
    .action = srv_action,
    .undo = srv_undo,
    .commit = srv_commit,
};

static struct h_table srv_table = {
    .name = "fxSrvTable",
    .root = srv_oid,
    .root_len = OID_LENGTH(srv_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = srv_cols,
    .ncols = sizeof(srv_cols) / sizeof(srv_cols[0]),
    .rowstatus_col = SRV_ROW_STATUS,
    .storage_col = SRV_STORAGE,
    .rank = 0,
    .image_size = sizeof(struct srv_image),
    .writable = 1,
    .ops = &srv_ops,
};

static const struct h_column map_cols[] = {
    {MAP_A, H_NA, H_SYN_ANY, 0, 0, 0},
    {MAP_B, H_NA, H_SYN_ANY, 0, 0, 0},
    {MAP_TARGET, H_RC, H_SYN_ISCSI_NAME, H_COL_NOT_ACTIVE, 1, 223},
    {MAP_SERVER, H_RC, H_SYN_UINT, 0, 0, UINT32_MAX},
    {MAP_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct map_image {
	char target[224];
	uint32_t server;
};

static int map_next(const uint32_t *after, uint32_t *out)
{
	for (size_t i = 0; i < nmap; i++)
		if (!after || maps[i].a > after[0] || (maps[i].a == after[0] && maps[i].b > after[1])) {
			out[0] = maps[i].a;
			out[1] = maps[i].b;
			return 0;
		}
	return -ENOENT;
}

static int map_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct fx_map *m = fx_map_find(idx[0], idx[1]);

	if (!m)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case MAP_TARGET: h_set_str(vb, m->target, sizeof(m->target)); break;
	case MAP_SERVER: h_set_u32(vb, ASN_UNSIGNED, m->server); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int map_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct map_image *w = image;

	switch (col) {
	case MAP_TARGET: h_set_str(vb, w->target, sizeof(w->target)); break;
	case MAP_SERVER: h_set_u32(vb, ASN_UNSIGNED, w->server); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int map_load(const uint32_t *idx, void *image)
{
	const struct fx_map *m = fx_map_find(idx[0], idx[1]);
	struct map_image *w = image;

	if (!m)
		return -ENOENT;
	snprintf(w->target, sizeof(w->target), "%s", m->target);
	w->server = m->server;
	return 0;
}

static int map_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct map_image *w = image;

	switch (col) {
	case MAP_TARGET: return h_put_str(w->target, sizeof(w->target), vb);
	case MAP_SERVER: return h_put_u32(&w->server, vb);
	default: return 0;
	}
}

static int map_ready(const void *image)
{
	return ((const struct map_image *)image)->target[0] != 0;
}

/* The engine's validate takes the servers this request creates as existing. */
static int map_check(struct h_row *row, struct h_txn *txn)
{
	const struct map_image *w = row->work;
	const struct h_row *s;

	if (row->op != H_OP_CREATE && row->op != H_OP_UPDATE)
		return 0;
	if (!w->server || fx_srv_find(w->server))
		return 0;
	s = h_txn_find(txn, &srv_table, &w->server);
	return s && s->status == RS_ACTIVE ? 0 : -ENOENT;
}

static int map_action(struct h_row *row, struct h_txn *txn)
{
	const struct map_image *w = row->work;
	struct fx_map *m;
	int rc;

	(void)txn;
	if (row->op == H_OP_CREATE) {
		if ((rc = fx_map_add(row->idx[0], row->idx[1], w->target, w->server)) == 0)
			row->done = 1;
		return rc;
	}
	if (!(m = fx_map_find(row->idx[0], row->idx[1])))
		return -ENOENT;
	m->server = w->server;
	row->done = 2;
	return 0;
}

static int map_undo(struct h_row *row)
{
	const struct map_image *old = row->old;
	struct fx_map *m;

	if (row->done == 1)
		fx_map_del(row->idx[0], row->idx[1]);
	else if (row->done == 2 && (m = fx_map_find(row->idx[0], row->idx[1])))
		m->server = old->server;
	row->done = 0;
	return 0;
}

static int map_commit(struct h_row *row)
{
	return row->op == H_OP_DESTROY ? fx_map_del(row->idx[0], row->idx[1]) : 0;
}

static const struct h_table_ops map_ops = {
    .next = map_next,
    .get = map_get,
    .get_work = map_get_work,
    .load = map_load,
    .store = map_store,
    .ready = map_ready,
    .check = map_check,
    .action = map_action,
    .undo = map_undo,
    .commit = map_commit,
};

static struct h_table map_table = {
    .name = "fxMapTable",
    .root = map_oid,
    .root_len = OID_LENGTH(map_oid),
    .nindex = 2,
    .index_min = 1,
    .cols = map_cols,
    .ncols = sizeof(map_cols) / sizeof(map_cols[0]),
    .rowstatus_col = MAP_ROW_STATUS,
    .rank = 1, /* after the servers it names */
    .image_size = sizeof(struct map_image),
    .writable = 1,
    .ops = &map_ops,
};

/* A read-only table whose rows are the framework's index set (no ordered engine lookup). */
static int ro_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	if (col != 2)
		return SNMP_NOSUCHOBJECT;
	h_set_int(vb, (long)(idx[0] * 1000 + idx[1] * 10 + idx[2]));
	return SNMP_ERR_NOERROR;
}

static const struct h_column ro_cols[] = {
    {1, H_NA, H_SYN_ANY, 0, 0, 0},
    {2, H_RO, H_SYN_ANY, 0, 0, 0},
};
static const struct h_table_ops ro_ops = {.get = ro_get};
static struct h_table ro_table = {
    .name = "fxRoTable",
    .root = ro_oid,
    .root_len = OID_LENGTH(ro_oid),
    .nindex = 3,
    .cols = ro_cols,
    .ncols = 2,
    .ops = &ro_ops,
};

/* ---- requests through the agent: an in-process session on net-snmp's callback transport ----------------- */

static time_t fake_now = 1000000;

static time_t fake_clock(void)
{
	return fake_now;
}

static void fixture(void)
{
	nsrv = nmap = 0;
	fail_capacity = 0;
	ck_assert_int_eq(fx_srv_add(1, "alpha", 10), 0);
	ck_assert_int_eq(fx_srv_add(2, "beta", 20), 0);
	ck_assert_int_eq(fx_srv_add(5, "gamma", 50), 0);
	ck_assert_int_eq(fx_map_add(1, 1, "iqn.2026-11.test:a", 1), 0);
	ck_assert_int_eq(fx_map_add(1, 2, "iqn.2026-11.test:b", 2), 0);
	ck_assert_int_eq(fx_map_add(2, 7, "iqn.2026-11.test:c", 0), 0);
	h_table_set_pending_limits(256, 300);
}

static void setup(void)
{
	static int agent_up;
	const uint32_t ro_rows[][3] = {{1, 1, 1}, {1, 2, 0}, {1, 2, 5}, {3, 0, 0}};

	if (!agent_up) {
		agent_session_open("sanagent-test-table");
		h_table_clock = fake_clock;
		agent_up = 1;
	}
	fixture();
	ck_assert_int_eq(h_table_register(&srv_table), 0);
	ck_assert_int_eq(h_table_register(&map_table), 0);
	ck_assert_int_eq(h_table_register(&ro_table), 0);
	for (size_t i = 0; i < sizeof(ro_rows) / sizeof(ro_rows[0]); i++)
		ck_assert_int_eq(h_table_row_add(&ro_table, ro_rows[i]), 0);
}

static void teardown(void)
{
	h_table_unregister(&srv_table);
	h_table_unregister(&map_table);
	h_table_unregister(&ro_table);
}

#define SRV ".1.3.6.1.4.1.32473.99.1.1"
#define MAP ".1.3.6.1.4.1.32473.99.2.1"
#define RO ".1.3.6.1.4.1.32473.99.3.1"

static int get_absent(const char *name)
{
	char b[64];

	get_str(name, b, sizeof(b));
	return !strcmp(b, "noSuchInstance");
}

static void walk(const char *from, const char *under, char *buf, size_t size)
{
	walk_n(from, under, buf, size, 1000);
}

/* The OIDs of a walk from `from` within `under`: all of them (max 0) or the first max. */
static void expect_walk_max(const char *from, const char *under, const char *const *want, size_t n, int max)
{
	char got[16384], exp[16384];

	oid_lines(want, n, exp, sizeof(exp));
	walk_n(from, under, got, sizeof(got), max ? max : 1000);
	ck_assert_str_eq(got, exp);
}

static void expect_walk(const char *from, const char *under, const char *const *want, size_t n)
{
	expect_walk_max(from, under, want, n, 0);
}

/* ---- GET and GETNEXT -------------------------------------------------------------------------------------- */

START_TEST(walk_every_row_and_column)
{
	/* Columns in order, rows in index order; not-accessible and accessible-for-notify columns never. */
	static const char *const srv_want[] = {
	    SRV ".2.1", SRV ".2.2", SRV ".2.5", SRV ".3.1", SRV ".3.2", SRV ".3.5",
	    SRV ".5.1", SRV ".5.2", SRV ".5.5", SRV ".6.1", SRV ".6.2", SRV ".6.5",
	};
	static const char *const map_want[] = {
	    MAP ".3.1.1", MAP ".3.1.2", MAP ".3.2.7", MAP ".4.1.1", MAP ".4.1.2",
	    MAP ".4.2.7", MAP ".5.1.1", MAP ".5.1.2", MAP ".5.2.7",
	};
	static const char *const ro_want[] = {RO ".2.1.1.1", RO ".2.1.2.0", RO ".2.1.2.5", RO ".2.3.0.0"};
	char b[64];

	expect_walk(SRV, SRV, srv_want, 12);
	expect_walk(".1.3.6.1.4.1.32473.99.1", SRV, srv_want, 12);
	expect_walk(MAP, MAP, map_want, 9);
	expect_walk(RO, RO, ro_want, 4);
	/* Every value by GET too. */
	get_str(SRV ".2.2", b, sizeof(b));
	ck_assert_str_eq(b, "beta");
	ck_assert_int_eq(get_int(SRV ".3.5"), 50);
	ck_assert_int_eq(get_int(SRV ".6.1"), RS_ACTIVE);
	ck_assert_int_eq(get_int(MAP ".4.1.2"), 2);
	ck_assert_int_eq(get_int(RO ".2.1.2.5"), 1025);
	ck_assert(get_absent(SRV ".2.3"));
	ck_assert(get_absent(MAP ".3.1"));
	get_str(SRV ".4.1", b, sizeof(b));
	ck_assert_str_eq(b, "noSuchObject");
}
END_TEST

START_TEST(getnext_from_partial_and_odd_indexes)
{
	static const char *const a[] = {MAP ".3.2.7", MAP ".4.1.1"};
	static const char *const b[] = {MAP ".3.1.2"};
	static const char *const c[] = {RO ".2.1.2.0"};
	static const char *const d[] = {SRV ".3.1"};
	static const char *const e[] = {MAP ".3.1.1"};
	char got[1024];

	/* From a partial index: the next row at or after it. */
	expect_walk_max(MAP ".3.2", MAP, a, 2, 2);
	expect_walk_max(MAP ".3.1.1.9", MAP, b, 1, 1);
	expect_walk_max(RO ".2.1.1.1.0", RO, c, 1, 1);
	/* A sub-identifier beyond 32 bits ends the column. */
	expect_walk_max(SRV ".2.4294967296", SRV, d, 1, 1);
	expect_walk_max(MAP ".3.0.4294967296", MAP, e, 1, 1);
	/* Past the last column: nothing of the table follows. */
	walk(SRV ".7", SRV, got, sizeof(got));
	ck_assert_str_eq(got, "");
}
END_TEST

/* ---- SET: RowStatus (RFC 2579) ----------------------------------------------------------------------------- */

START_TEST(rowstatus_values_and_transitions)
{
	long idx;

	/* 0, notReady and out-of-range values are no verbs. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "0", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "3", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "7", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 's', "x", NULL), SNMP_ERR_WRONGTYPE);
	/* active / notInService of a missing row; a column alone cannot create one. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "1", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "2", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".3.9", 'u', "5", NULL), SNMP_ERR_NOCREATION);
	ck_assert_int_eq(set_req(&idx, SRV ".6.0", 'i', "4", SRV ".2.0", 's', "zero", NULL), SNMP_ERR_NOCREATION);
	/* createAndGo of an incomplete row. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "4", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert(get_absent(SRV ".6.9"));

	/* createAndWait: notReady until complete, then notInService, then active in the engine. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "5", NULL), SNMP_ERR_NOERROR);
	ck_assert_int_eq(get_int(SRV ".6.9"), RS_NOTREADY);
	ck_assert_int_eq(get_int(SRV ".3.9"), 1); /* DEFVAL */
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "5", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "1", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "2", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".2.9", 's', "delta", SRV ".3.9", 'u', "7", NULL), SNMP_ERR_NOERROR);
	ck_assert_int_eq(get_int(SRV ".6.9"), RS_NOTINSERVICE);
	ck_assert_ptr_null(fx_srv_find(9));
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "1", NULL), SNMP_ERR_NOERROR);
	ck_assert_ptr_nonnull(fx_srv_find(9));
	ck_assert_int_eq(fx_srv_find(9)->capacity, 7);
	ck_assert_int_eq(get_int(SRV ".6.9"), RS_ACTIVE);
	ck_assert_uint_eq(h_table_pending_count(&srv_table), 0);

	/* Active rows: no re-create, no notInService (not supported: wrongValue), a NOT_ACTIVE column
	 * may not change but may be set to what it is. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "4", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "2", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".2.9", 's', "epsilon", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".2.9", 's', "delta", SRV ".6.9", 'i', "1", NULL), SNMP_ERR_NOERROR);
	ck_assert_int_eq(set_req(&idx, SRV ".3.9", 'u', "8", NULL), SNMP_ERR_NOERROR);
	ck_assert_int_eq(fx_srv_find(9)->capacity, 8);

	/* destroy: of an engine row (the engine may refuse), of a pending row, of nothing. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.1", 'i', "6", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_ptr_nonnull(fx_srv_find(1));
	ck_assert_int_eq(set_req(&idx, SRV ".6.9", 'i', "6", NULL), SNMP_ERR_NOERROR);
	ck_assert_ptr_null(fx_srv_find(9));
	ck_assert_int_eq(set_req(&idx, SRV ".6.10", 'i', "5", SRV ".2.10", 's', "zeta", NULL), SNMP_ERR_NOERROR);
	ck_assert_int_eq(get_int(SRV ".6.10"), RS_NOTINSERVICE);
	ck_assert_int_eq(set_req(&idx, SRV ".6.10", 'i', "6", NULL), SNMP_ERR_NOERROR);
	ck_assert(get_absent(SRV ".6.10"));
	ck_assert_int_eq(set_req(&idx, SRV ".6.11", 'i', "6", NULL), SNMP_ERR_NOERROR);

	/* Engine validation: a duplicate name is inconsistentValue, at the RowStatus varbind. */
	ck_assert_int_eq(set_req(&idx, SRV ".2.12", 's', "alpha", SRV ".6.12", 'i', "4", NULL),
	                 SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(idx, 2);
}
END_TEST

START_TEST(column_syntax)
{
	long idx;

	ck_assert_int_eq(set_req(&idx, SRV ".3.1", 'u', "0", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".3.1", 'u', "101", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".3.1", 'i', "5", NULL), SNMP_ERR_WRONGTYPE);
	ck_assert_int_eq(set_req(&idx, SRV ".5.1", 'i', "5", NULL), SNMP_ERR_WRONGVALUE); /* readOnly */
	ck_assert_int_eq(set_req(&idx, SRV ".4.1", 'i', "1", NULL), SNMP_ERR_NOACCESS);
	ck_assert_int_eq(set_req(&idx, SRV ".1.1", 'u', "1", NULL), SNMP_ERR_NOACCESS);
	ck_assert_int_eq(set_req(&idx, SRV ".9.1", 'u', "1", NULL), SNMP_ERR_NOCREATION);
	ck_assert_int_eq(set_req(&idx, SRV ".3.1.1", 'u', "5", NULL), SNMP_ERR_NOCREATION);
	ck_assert_int_eq(set_req(&idx, RO ".2.1.1.1", 'i', "1", NULL), SNMP_ERR_NOTWRITABLE);
	/* SnmpAdminString: UTF-8 only (an invalid byte, an overlong form, a surrogate, a control). */
	ck_assert_int_eq(set_req(&idx, SRV ".2.20", 'x', "61FF62", SRV ".6.20", 'i', "4", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".2.20", 'x', "C0AF", SRV ".6.20", 'i', "4", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".2.20", 'x', "EDA080", SRV ".6.20", 'i', "4", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".2.20", 'x', "610A", SRV ".6.20", 'i', "4", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, SRV ".2.20", 'x', "", SRV ".6.20", 'i', "4", NULL), SNMP_ERR_WRONGLENGTH);
	ck_assert_int_eq(set_req(&idx, SRV ".2.20", 'x', "C3A9E282AC", SRV ".6.20", 'i', "4", NULL), SNMP_ERR_NOERROR);
	ck_assert_str_eq(fx_srv_find(20)->name, "\xc3\xa9\xe2\x82\xac");
	/* iSCSI names. */
	ck_assert_int_eq(set_req(&idx, MAP ".3.3.1", 's', "iqn.2026-11.Test:x", MAP ".5.3.1", 'i', "4", NULL),
	                 SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, MAP ".3.3.1", 's', "iqn.26-11.test", MAP ".5.3.1", 'i', "4", NULL),
	                 SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, MAP ".3.3.1", 's', "target0", MAP ".5.3.1", 'i', "4", NULL),
	                 SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, MAP ".3.3.1", 's', "eui.02004567A425678", MAP ".5.3.1", 'i', "4", NULL),
	                 SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, MAP ".3.3.1", 's', "eui.02004567A425678D", MAP ".5.3.1", 'i', "4", NULL),
	                 SNMP_ERR_NOERROR);
	ck_assert_int_eq(set_req(&idx, MAP ".3.3.2", 's', "naa.52004567BA64678D", MAP ".5.3.2", 'i', "4", NULL),
	                 SNMP_ERR_NOERROR);
	ck_assert_int_eq(h_iscsi_name_valid("iqn.2026-11.org.example:disk-0.a", 32), 1);
	{
		char longname[240];

		memset(longname, 'a', sizeof(longname));
		memcpy(longname, "iqn.2026-11.x:", 14);
		ck_assert_int_eq(h_iscsi_name_valid(longname, 223), 1);
		ck_assert_int_eq(h_iscsi_name_valid(longname, 224), 0);
	}
}
END_TEST

/* ---- SET: one transaction across tables ------------------------------------------------------------------ */

START_TEST(cross_table_create_in_one_pdu)
{
	long idx;

	/* A map to a server that does not exist and is not being created. */
	ck_assert_int_eq(set_req(&idx, MAP ".3.4.1", 's', "iqn.2026-11.test:d", MAP ".4.4.1", 'u', "30", MAP ".5.4.1",
	                         'i', "4", NULL),
	                 SNMP_ERR_INCONSISTENTVALUE);
	/* The same with the server in the same PDU, named after the map (the map's table is called first). */
	ck_assert_int_eq(set_req(&idx, MAP ".3.4.1", 's', "iqn.2026-11.test:d", MAP ".4.4.1", 'u', "30", MAP ".5.4.1",
	                         'i', "4", SRV ".2.30", 's', "omega", SRV ".6.30", 'i', "4", NULL),
	                 SNMP_ERR_NOERROR);
	ck_assert_ptr_nonnull(fx_srv_find(30));
	ck_assert_ptr_nonnull(fx_map_find(4, 1));
	ck_assert_int_eq(fx_map_find(4, 1)->server, 30);
	/* createAndWait of the server does not make it exist for the map. */
	ck_assert_int_eq(set_req(&idx, MAP ".3.4.2", 's', "iqn.2026-11.test:e", MAP ".4.4.2", 'u', "31", MAP ".5.4.2",
	                         'i', "4", SRV ".2.31", 's', "psi", SRV ".6.31", 'i', "5", NULL),
	                 SNMP_ERR_INCONSISTENTVALUE);
	ck_assert(get_absent(SRV ".6.31"));
}
END_TEST

START_TEST(undo_after_a_later_failure)
{
	long idx;

	/* A created server, a changed map and a pending row, then a capacity verb that fails: all undone. */
	fail_capacity = 42;
	ck_assert_int_eq(set_req(&idx, SRV ".2.40", 's', "kappa", SRV ".6.40", 'i', "4", MAP ".4.1.1", 'u', "5",
	                         SRV ".6.41", 'i', "5", SRV ".3.2", 'u', "42", NULL),
	                 SNMP_ERR_COMMITFAILED);
	ck_assert_int_eq(idx, 5);
	ck_assert_ptr_null(fx_srv_find(40));
	ck_assert_int_eq(fx_map_find(1, 1)->server, 1);
	ck_assert_int_eq(fx_srv_find(2)->capacity, 20);
	ck_assert(get_absent(SRV ".6.41"));
	/* The engine failing in the action of a pending row's activation puts the pending row back. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.42", 'i', "5", SRV ".2.42", 's', "lambda", SRV ".3.42", 'u', "42", NULL),
	                 SNMP_ERR_NOERROR);
	ck_assert_int_eq(set_req(&idx, SRV ".6.42", 'i', "1", NULL), SNMP_ERR_COMMITFAILED);
	ck_assert_ptr_null(fx_srv_find(42));
	ck_assert_int_eq(get_int(SRV ".6.42"), RS_NOTINSERVICE);
	/* A destroy waits for COMMIT: a failure elsewhere leaves the row. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.5", 'i', "6", SRV ".3.2", 'u', "42", NULL), SNMP_ERR_COMMITFAILED);
	ck_assert_ptr_nonnull(fx_srv_find(5));
	ck_assert_int_eq(set_req(&idx, SRV ".6.5", 'i', "6", MAP ".6.2.7", 'i', "6", NULL), SNMP_ERR_NOCREATION);
	ck_assert_ptr_nonnull(fx_srv_find(5));
	ck_assert_int_eq(set_req(&idx, SRV ".6.5", 'i', "6", MAP ".5.2.7", 'i', "6", NULL), SNMP_ERR_NOERROR);
	ck_assert_ptr_null(fx_srv_find(5));
	ck_assert_ptr_null(fx_map_find(2, 7));
}
END_TEST

/* ---- rows not active yet: in walks, capped, aged out ------------------------------------------------------ */

START_TEST(pending_rows_walk_cap_and_age)
{
	static const char *const want[] = {SRV ".6.1", SRV ".6.2", SRV ".6.3", SRV ".6.5", SRV ".6.7"};
	long idx;

	h_table_set_pending_limits(2, 300);
	ck_assert_int_eq(set_req(&idx, SRV ".6.3", 'i', "5", NULL), SNMP_ERR_NOERROR);
	ck_assert_int_eq(set_req(&idx, SRV ".6.7", 'i', "5", SRV ".2.7", 's', "eta", NULL), SNMP_ERR_NOERROR);
	/* Pending rows walk among the engine's in index order, with their own values. */
	expect_walk_max(SRV ".6", SRV, want, 5, 5);
	ck_assert_int_eq(get_int(SRV ".6.3"), RS_NOTREADY);
	ck_assert_int_eq(get_int(SRV ".6.7"), RS_NOTINSERVICE);
	/* The cap: a third is refused, in one PDU as well as alone. */
	ck_assert_int_eq(set_req(&idx, SRV ".6.8", 'i', "5", NULL), SNMP_ERR_RESOURCEUNAVAILABLE);
	h_table_set_pending_limits(3, 300);
	ck_assert_int_eq(set_req(&idx, SRV ".6.8", 'i', "5", SRV ".6.9", 'i', "5", NULL), SNMP_ERR_RESOURCEUNAVAILABLE);
	ck_assert_uint_eq(h_table_pending_count(&srv_table), 2);
	/* A SET refreshes a row's age; a row left alone for the period goes. */
	fake_now += 200;
	ck_assert_int_eq(set_req(&idx, SRV ".3.7", 'u', "9", NULL), SNMP_ERR_NOERROR);
	fake_now += 150;
	ck_assert(get_absent(SRV ".6.3"));
	ck_assert_int_eq(get_int(SRV ".6.7"), RS_NOTINSERVICE);
	ck_assert_int_eq(get_int(SRV ".3.7"), 9);
	fake_now += 300;
	ck_assert(get_absent(SRV ".6.7"));
	ck_assert_uint_eq(h_table_pending_count(&srv_table), 0);
}
END_TEST

START_TEST(error_map)
{
	ck_assert_int_eq(h_table_err(0, H_PHASE_CHECK), SNMP_ERR_NOERROR);
	ck_assert_int_eq(h_table_err(-EINVAL, H_PHASE_CHECK), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(h_table_err(-ERANGE, H_PHASE_CHECK), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(h_table_err(-EMSGSIZE, H_PHASE_CHECK), SNMP_ERR_WRONGLENGTH);
	ck_assert_int_eq(h_table_err(-EEXIST, H_PHASE_CHECK), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(h_table_err(-ENOENT, H_PHASE_CHECK), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(h_table_err(-EPERM, H_PHASE_CHECK), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(h_table_err(-EBUSY, H_PHASE_CHECK), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(h_table_err(-EAGAIN, H_PHASE_CHECK), SNMP_ERR_RESOURCEUNAVAILABLE);
	ck_assert_int_eq(h_table_err(-EAGAIN, H_PHASE_ACTION), SNMP_ERR_RESOURCEUNAVAILABLE);
	ck_assert_int_eq(h_table_err(-ENOSPC, H_PHASE_ACTION), SNMP_ERR_RESOURCEUNAVAILABLE);
	ck_assert_int_eq(h_table_err(-EROFS, H_PHASE_CHECK), SNMP_ERR_NOTWRITABLE);
	ck_assert_int_eq(h_table_err(-EINVAL, H_PHASE_ACTION), SNMP_ERR_COMMITFAILED);
	ck_assert_int_eq(h_table_err(-EFAULT, H_PHASE_ACTION), SNMP_ERR_COMMITFAILED);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("table");
	TCase *tc = tcase_create("framework");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, walk_every_row_and_column);
	tcase_add_test(tc, getnext_from_partial_and_odd_indexes);
	tcase_add_test(tc, rowstatus_values_and_transitions);
	tcase_add_test(tc, column_syntax);
	tcase_add_test(tc, cross_table_create_in_one_pdu);
	tcase_add_test(tc, undo_after_a_later_failure);
	tcase_add_test(tc, pending_rows_walk_cap_and_age);
	tcase_add_test(tc, error_map);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* One process: the agent is set up once and its tables registered per test. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
