/* discSourceTable.c: sanDiscSourceTable (read-create), sanDiscSourceNextIndex and sanDiscRefresh: the discovery
 * engine's SendTargets portals, iSNS servers and scan ranges, their progress and the refresh triggers. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "handlers/discTables.h"
#include "handlers/loginTables.h"
#include "handlers/redirTables.h"
#include "handlers/scalars.h"
#include "handlers/table.h"

static const oid source_table_oid[] = {SA_OID_DISC_SOURCE_TABLE};
static const oid next_index_oid[] = {SA_OID_DISC_SOURCE_NEXT_INDEX};
static const oid refresh_oid[] = {SA_OID_DISC_REFRESH};

/* What a row's SETs give it. */
struct dsrc_image {
	int mechanism;
	int addr_type; /* InetAddressType: ipv4(1), ipv6(2) */
	u_char addr[16];
	size_t addr_len;
	uint16_t port;
	uint32_t prefix;
	int local; /* TruthValue: 1 true, 2 false */
	uint32_t cred;
	int storage;
	int refresh;
};

static const struct h_column source_cols[] = {
    {H_DSRC_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_MECHANISM, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, DISC_MECH_SENDTARGETS, DISC_MECH_RANGE},
    {H_DSRC_ADDR_TYPE, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, 1, 2},
    {H_DSRC_ADDR, H_RC, H_SYN_INET_ADDR, H_COL_NOT_ACTIVE, 4, 16},
    {H_DSRC_PORT, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 0, 65535},
    {H_DSRC_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_TARGETS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_LAST_ATTEMPT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_LAST_SUCCESS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_ATTEMPTS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_FAILURES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_LAST_ERROR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_PREFIX, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 0, 32},
    {H_DSRC_LOCAL, H_RC, H_SYN_TRUTH, H_COL_NOT_ACTIVE, 0, 0},
    {H_DSRC_CRED, H_RC, H_SYN_UINT, 0, 0, 4294967295L},
    {H_DSRC_REFRESH, H_RC, H_SYN_INT, 0, H_DISC_REFRESH_IDLE, H_DISC_REFRESH_GO},
    {H_DSRC_STATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_PERCENT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_RANGE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DSRC_STORAGE_TYPE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_DSRC_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

void h_disc_set_addr(netsnmp_variable_list *vb, int family, const char *host, int want_type)
{
	u_char a[16];
	size_t len;
	int type = h_redir_host_addr(family, host, a, &len);

	if (want_type)
		h_set_int(vb, type);
	else
		h_set_octets(vb, a, len);
}

/* Config rows are the config file's (a reload rewrites them): readOnly.  Portals a range found are the scan's:
 * volatile, and not for SETs either. */
static int storage_of(const struct disc_source *s)
{
	if (s->origin == DISC_ORIGIN_CONFIG)
		return ST_READONLY;
	return s->origin == DISC_ORIGIN_SNMP && s->nonvolatile ? ST_NONVOLATILE : ST_VOLATILE;
}

int h_disc_source_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_source *s = disc_source_find(index);

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_DSRC_MECHANISM: h_set_int(vb, s->mechanism); break;
	case H_DSRC_ADDR_TYPE: h_disc_set_addr(vb, s->family, s->host, 1); break;
	case H_DSRC_ADDR: h_disc_set_addr(vb, s->family, s->host, 0); break;
	case H_DSRC_PORT: h_set_u32(vb, ASN_UNSIGNED, s->port); break;
	case H_DSRC_STATUS: h_set_int(vb, s->status); break;
	case H_DSRC_TARGETS: h_set_u32(vb, ASN_GAUGE, s->ntargets); break;
	case H_DSRC_LAST_ATTEMPT: h_redir_set_time(vb, s->last_attempt); break;
	case H_DSRC_LAST_SUCCESS: h_redir_set_time(vb, s->last_success); break;
	case H_DSRC_ATTEMPTS: h_set_u32(vb, ASN_COUNTER, s->attempts); break;
	case H_DSRC_FAILURES: h_set_u32(vb, ASN_COUNTER, s->failures); break;
	case H_DSRC_LAST_ERROR: h_set_str(vb, s->last_error, sizeof(s->last_error)); break;
	case H_DSRC_PREFIX: h_set_u32(vb, ASN_UNSIGNED, s->prefix); break;
	case H_DSRC_LOCAL: h_set_int(vb, s->local ? 1 : 2); break;
	case H_DSRC_CRED: h_set_u32(vb, ASN_UNSIGNED, s->cred); break;
	case H_DSRC_REFRESH: h_set_int(vb, H_DISC_REFRESH_IDLE); break;
	case H_DSRC_STATE: h_set_int(vb, s->state); break;
	case H_DSRC_PERCENT: h_set_u32(vb, ASN_GAUGE, s->percent); break;
	case H_DSRC_RANGE: h_set_u32(vb, ASN_UNSIGNED, s->range); break;
	case H_DSRC_STORAGE_TYPE: h_set_int(vb, storage_of(s)); break;
	case H_DSRC_ROW_STATUS: h_set_int(vb, RS_ACTIVE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int src_next(const uint32_t *after, uint32_t *out)
{
	const struct disc_source *s = disc_source_next(after ? after[0] : 0);

	if (!s)
		return -ENOENT;
	out[0] = s->index;
	return 0;
}

static int src_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_disc_source_get(idx[0], col, vb);
}

/* A row not active yet: what its SETs gave it. */
static int src_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct dsrc_image *w = image;

	switch (col) {
	case H_DSRC_MECHANISM: h_set_int(vb, w->mechanism); break;
	case H_DSRC_ADDR_TYPE: h_set_int(vb, w->addr_type); break;
	case H_DSRC_ADDR: h_set_octets(vb, w->addr, w->addr_len); break;
	case H_DSRC_PORT: h_set_u32(vb, ASN_UNSIGNED, w->port); break;
	case H_DSRC_STATUS: h_set_int(vb, DISC_SRC_PENDING); break;
	case H_DSRC_TARGETS:
	case H_DSRC_PERCENT: h_set_u32(vb, ASN_GAUGE, 0); break;
	case H_DSRC_ATTEMPTS:
	case H_DSRC_FAILURES: h_set_u32(vb, ASN_COUNTER, 0); break;
	case H_DSRC_LAST_ERROR: h_set_str(vb, "", 0); break;
	case H_DSRC_PREFIX: h_set_u32(vb, ASN_UNSIGNED, w->prefix); break;
	case H_DSRC_LOCAL: h_set_int(vb, w->local); break;
	case H_DSRC_CRED: h_set_u32(vb, ASN_UNSIGNED, w->cred); break;
	case H_DSRC_REFRESH: h_set_int(vb, H_DISC_REFRESH_IDLE); break;
	case H_DSRC_STATE: h_set_int(vb, DISC_STATE_IDLE); break;
	case H_DSRC_RANGE: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	case H_DSRC_STORAGE_TYPE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* ---- SET ---------------------------------------------------------------------------------------------- */

static int src_load(const uint32_t *idx, void *image)
{
	const struct disc_source *s = disc_source_find(idx[0]);
	struct dsrc_image *w = image;
	int type;

	if (!s)
		return -ENOENT;
	w->mechanism = s->mechanism;
	type = h_redir_host_addr(s->family, s->host, w->addr, &w->addr_len);
	w->addr_type = type;
	w->port = s->port;
	w->prefix = s->prefix;
	w->local = s->local ? 1 : 2;
	w->cred = s->cred;
	w->storage = storage_of(s);
	w->refresh = H_DISC_REFRESH_IDLE;
	return 0;
}

/* The MIB's DEFVALs. */
static void src_defaults(void *image, const uint32_t *idx)
{
	struct dsrc_image *w = image;

	(void)idx;
	w->mechanism = DISC_MECH_SENDTARGETS;
	w->addr_type = 1;
	w->local = 2;
	w->storage = ST_NONVOLATILE;
	w->refresh = H_DISC_REFRESH_IDLE;
}

static int src_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct dsrc_image *w = image;

	switch (col) {
	case H_DSRC_MECHANISM: return h_put_int(&w->mechanism, vb);
	case H_DSRC_ADDR_TYPE: return h_put_int(&w->addr_type, vb);
	case H_DSRC_ADDR: return h_put_octets(w->addr, &w->addr_len, sizeof(w->addr), vb);
	case H_DSRC_PORT: return h_put_u16(&w->port, vb);
	case H_DSRC_PREFIX: return h_put_u32(&w->prefix, vb);
	case H_DSRC_LOCAL: return h_put_int(&w->local, vb);
	case H_DSRC_CRED: return h_put_u32(&w->cred, vb);
	case H_DSRC_STORAGE_TYPE: return h_put_int(&w->storage, vb);
	/* A trigger: every SET of refresh(2) is a change. */
	case H_DSRC_REFRESH: w->refresh = (int)*vb->val.integer; return w->refresh == H_DISC_REFRESH_GO;
	default: return 0;
	}
}

static int src_ready(const void *image)
{
	const struct dsrc_image *w = image;

	return w->addr_len != 0;
}

/* The engine's spec of an image; -EDOM when the address and its type disagree. */
static int image_spec(const struct dsrc_image *w, struct disc_source_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->mechanism = w->mechanism;
	sp->family = w->addr_type == 2 ? AF_INET6 : AF_INET;
	if (w->addr_len != (w->addr_type == 2 ? 16u : 4u) ||
	    !inet_ntop(sp->family, w->addr, sp->host, sizeof(sp->host)))
		return -EDOM;
	sp->port = w->port;
	sp->prefix = w->prefix;
	sp->local = w->local == 1;
	sp->cred = w->cred;
	sp->nonvolatile = w->storage == ST_NONVOLATILE;
	return 0;
}

/* A credential row the same request creates (it is not in the engine until ACTION). */
static int cred_made_now(struct h_txn *txn, uint32_t cred)
{
	const struct h_row *r = cred && !disc_cred_find(cred) ? h_txn_find(txn, &h_cred_table, &cred) : NULL;

	return r && r->status == RS_ACTIVE;
}

static int src_check(struct h_row *row, struct h_txn *txn)
{
	struct dsrc_image *w = row->work;
	struct disc_source_spec sp;
	int rc;

	switch (row->op) {
	case H_OP_CREATE:
		if ((rc = image_spec(w, &sp)) == 0 && sp.cred && sp.mechanism != DISC_MECH_ISNS &&
		    cred_made_now(txn, sp.cred))
			sp.cred = 0; /* created by this request, before this row (its table ranks first) */
		if (rc < 0 || (rc = disc_source_validate(row->idx[0], &sp)) < 0)
			cm_log(CM_LOG_INFO, "handlers", "sanDiscSourceTable.%u: create refused: %s",
			       (unsigned int)row->idx[0], strerror(-rc));
		return rc;
	case H_OP_PENDING:
		/* Values that can never be right are refused at once. */
		return w->mechanism == DISC_MECH_SCAN ? -EINVAL : 0;
	case H_OP_UPDATE:
		if (h_row_changed(row, H_DSRC_CRED))
			return disc_source_check_update(row->idx[0], cred_made_now(txn, w->cred) ? 0 : w->cred);
		return disc_source_find(row->idx[0]) ? 0 : -ENOENT;
	case H_OP_DESTROY: return disc_source_check_destroy(row->idx[0]);
	default: return 0;
	}
}

enum { DONE_CREATED = 1, DONE_CRED = 2 };

static int src_action(struct h_row *row, struct h_txn *txn)
{
	struct dsrc_image *w = row->work;
	struct disc_source_spec sp;
	int rc;

	(void)txn;
	if (row->op == H_OP_CREATE) {
		if ((rc = image_spec(w, &sp)) < 0 || (rc = disc_source_create(row->idx[0], &sp)) < 0)
			return rc;
		row->done = DONE_CREATED;
		return 0;
	}
	if (row->op == H_OP_UPDATE && h_row_changed(row, H_DSRC_CRED)) {
		if ((rc = disc_source_set_cred(row->idx[0], w->cred)) < 0)
			return rc;
		row->done = DONE_CRED;
	}
	return 0;
}

static int src_undo(struct h_row *row)
{
	const struct dsrc_image *old = row->old;
	int rc = 0;

	if (row->done == DONE_CREATED)
		rc = disc_source_destroy(row->idx[0]);
	else if (row->done == DONE_CRED)
		rc = disc_source_set_cred(row->idx[0], old->cred);
	row->done = 0;
	return rc;
}

/* Destroying and asking again cannot be undone: they wait for every varbind to succeed. */
static int src_commit(struct h_row *row)
{
	const struct dsrc_image *w = row->work;
	int rc = 0;

	if (row->op == H_OP_DESTROY)
		rc = disc_source_destroy(row->idx[0]);
	else if (row->op == H_OP_UPDATE && w->refresh == H_DISC_REFRESH_GO)
		rc = disc_source_refresh(row->idx[0]);
	if (rc < 0)
		cm_log(CM_LOG_ERR, "handlers", "sanDiscSourceTable.%u: %s failed: %s", (unsigned int)row->idx[0],
		       row->op == H_OP_DESTROY ? "destroy" : "refresh", strerror(-rc));
	return rc;
}

static const struct h_table_ops source_ops = {
    .next = src_next,
    .get = src_get,
    .get_work = src_get_work,
    .load = src_load,
    .defaults = src_defaults,
    .store = src_store,
    .ready = src_ready,
    .check = src_check,
    .action = src_action,
    .undo = src_undo,
    .commit = src_commit,
};

static struct h_table source_table = {
    .name = "sanDiscSourceTable",
    .root = source_table_oid,
    .root_len = OID_LENGTH(source_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = source_cols,
    .ncols = sizeof(source_cols) / sizeof(source_cols[0]),
    .rowstatus_col = H_DSRC_ROW_STATUS,
    .storage_col = H_DSRC_STORAGE_TYPE,
    .rank = 1, /* after the credentials it names; destroyed before them */
    .image_size = sizeof(struct dsrc_image),
    .writable = 1,
    .ops = &source_ops,
};

static struct h_next_index next_index = {
    .name = "sanDiscSourceNextIndex",
    .root = next_index_oid,
    .root_len = OID_LENGTH(next_index_oid),
    .value = disc_source_next_index,
    .table = &source_table,
};

/* ---- sanDiscRefresh: every source at once (the seed's ForceUpdate) --------------------------------------- */

static const struct h_column refresh_objs[] = {
    {0, H_RW, H_SYN_INT, 0, H_DISC_REFRESH_IDLE, H_DISC_REFRESH_GO},
};

static int refresh_get(unsigned int sub, netsnmp_variable_list *vb)
{
	(void)sub;
	h_set_int(vb, H_DISC_REFRESH_IDLE);
	return SNMP_ERR_NOERROR;
}

static void refresh_load(void *image)
{
	*(int *)image = H_DISC_REFRESH_IDLE;
}

static int refresh_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	(void)sub;
	*(int *)image = (int)*vb->val.integer;
	return 1;
}

static void refresh_commit(struct h_scalar_txn *x)
{
	int rc;

	if (*(const int *)x->work == H_DISC_REFRESH_GO && (rc = disc_refresh()) < 0)
		cm_log(CM_LOG_WARNING, "handlers", "sanDiscRefresh: %s", strerror(-rc));
}

static const struct h_scalar_ops refresh_ops = {
    .get = refresh_get,
    .load = refresh_load,
    .store = refresh_store,
    .commit = refresh_commit,
};

static struct h_scalar_group refresh_group = {
    .name = "sanDiscRefresh",
    .root = refresh_oid,
    .root_len = OID_LENGTH(refresh_oid),
    .objs = refresh_objs,
    .nobjs = 1,
    .image_size = sizeof(int),
    .writable = 1,
    .ops = &refresh_ops,
};

int h_disc_source_table_init(void)
{
	int rc;

	if ((rc = h_table_register(&source_table)) < 0 || (rc = h_next_index_register(&next_index)) < 0 ||
	    (rc = h_scalar_register(&refresh_group)) < 0) {
		h_disc_source_table_shutdown();
		return rc;
	}
	return 0;
}

void h_disc_source_table_shutdown(void)
{
	h_scalar_unregister(&refresh_group);
	h_next_index_unregister(&next_index);
	h_table_unregister(&source_table);
}
