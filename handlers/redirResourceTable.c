/* redirResourceTable.c: sanRedirResourceTable, targets and their mapped servers, read live from the engine; RowStatus,
 * moves and loads by SET. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "handlers/redirTables.h"
#include "handlers/table.h"

static const oid resource_table_oid[] = {SA_OID_REDIR_RESOURCE_TABLE};

static const struct h_column resource_cols[] = {
    {H_RES_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_RES_TARGET, H_RC, H_SYN_ISCSI_NAME, H_COL_NOT_ACTIVE, 1, REDIR_NAME_MAX - 1},
    {H_RES_SERVER, H_RC, H_SYN_UINT, 0, 0, UINT32_MAX},
    {H_RES_LOAD, H_RC, H_SYN_UINT, 0, 0, UINT32_MAX},
    {H_RES_LOAD_HC, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_RES_LOAD_SOURCE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_RES_PINNED, H_RC, H_SYN_TRUTH, 0, 0, 0},
    {H_RES_MAPPED_SINCE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_RES_REDIRECTS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_RES_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_RES_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
    {H_RES_PREV_SERVER, H_NOTIFY, H_SYN_ANY, 0, 0, 0},
    {H_RES_ORIGIN, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_RES_FAIL_POLICY, H_RC, H_SYN_INT, 0, REDIR_FAIL_STAY, REDIR_FAIL_MOVE},
    {H_RES_SERVER_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_RES_BYTE_RATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_RES_COMMAND_RATE, H_RO, H_SYN_ANY, 0, 0, 0},
};

struct res_image {
	struct redir_resource_spec spec;
	int has_load; /* a SET gave the load: it becomes an external one (LoadSource set(2)) */
	uint64_t load;
	time_t created;
};

/* ---- GET ---------------------------------------------------------------------------------------------- */

static int res_next(const uint32_t *after, uint32_t *out)
{
	const struct redir_resource *e = redir_resource_next(after ? after[0] : 0);

	if (!e)
		return -ENOENT;
	out[0] = e->index;
	return 0;
}

static void set_load32(netsnmp_variable_list *vb, uint64_t load)
{
	/* Unsigned32 saturates; LoadHC has the whole value. */
	h_set_u32(vb, ASN_UNSIGNED, load > UINT32_MAX ? UINT32_MAX : (uint32_t)load);
}

/* Whether logins for the resource reach its server: down when the server failed or is set down. */
static int server_status(uint32_t server)
{
	const struct redir_server *s = server ? redir_server_find(server) : NULL;

	if (!s)
		return H_RES_SRV_UNMAPPED;
	return s->admin == REDIR_ADMIN_DOWN || s->oper == REDIR_OPER_DOWN ? H_RES_SRV_DOWN : H_RES_SRV_UP;
}

int h_redir_resource_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_resource *e = redir_resource_find(index);

	if (!e)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_RES_TARGET: h_set_str(vb, e->target, sizeof(e->target)); break;
	case H_RES_SERVER: h_set_u32(vb, ASN_UNSIGNED, e->server); break;
	case H_RES_LOAD: set_load32(vb, e->load); break;
	case H_RES_LOAD_HC: h_set_u64(vb, e->load); break;
	case H_RES_LOAD_SOURCE: h_set_int(vb, e->load_set ? 2 : 1); break;
	case H_RES_PINNED: h_set_int(vb, e->pinned ? 1 : 2); break;
	case H_RES_MAPPED_SINCE: h_redir_set_time(vb, e->mapped_since); break;
	case H_RES_REDIRECTS: h_set_u64(vb, e->redirects); break;
	case H_RES_STORAGE: h_set_int(vb, e->storage); break;
	case H_RES_ROW_STATUS: h_set_int(vb, RS_ACTIVE); break;
	case H_RES_ORIGIN: h_set_int(vb, e->origin); break;
	case H_RES_FAIL_POLICY: h_set_int(vb, e->fail_policy ? e->fail_policy : REDIR_FAIL_STAY); break;
	case H_RES_SERVER_STATUS: h_set_int(vb, server_status(e->server)); break;
	case H_RES_BYTE_RATE: h_set_u64(vb, e->byte_rate); break;
	case H_RES_COMMAND_RATE: set_load32(vb, e->cmd_rate); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int res_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_resource_get(idx[0], col, vb);
}

static int res_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct res_image *w = image;

	switch (col) {
	case H_RES_TARGET: h_set_str(vb, w->spec.target, sizeof(w->spec.target)); break;
	case H_RES_SERVER: h_set_u32(vb, ASN_UNSIGNED, w->spec.server); break;
	case H_RES_LOAD: set_load32(vb, w->load); break;
	case H_RES_LOAD_HC: h_set_u64(vb, w->load); break;
	case H_RES_LOAD_SOURCE: h_set_int(vb, w->has_load ? 2 : 1); break;
	case H_RES_PINNED: h_set_int(vb, w->spec.pinned ? 1 : 2); break;
	case H_RES_MAPPED_SINCE: h_redir_set_time(vb, w->created); break;
	case H_RES_REDIRECTS: h_set_u64(vb, 0); break;
	case H_RES_STORAGE: h_set_int(vb, w->spec.storage); break;
	case H_RES_ORIGIN: h_set_int(vb, REDIR_ORIGIN_SNMP); break;
	case H_RES_FAIL_POLICY: h_set_int(vb, w->spec.fail_policy); break;
	case H_RES_SERVER_STATUS: h_set_int(vb, server_status(w->spec.server)); break;
	case H_RES_BYTE_RATE: h_set_u64(vb, 0); break;
	case H_RES_COMMAND_RATE: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* ---- SET ---------------------------------------------------------------------------------------------- */

static int res_load(const uint32_t *idx, void *image)
{
	const struct redir_resource *e = redir_resource_find(idx[0]);
	struct res_image *w = image;

	if (!e)
		return -ENOENT;
	snprintf(w->spec.target, sizeof(w->spec.target), "%s", e->target);
	w->spec.server = e->server;
	w->spec.pinned = e->pinned;
	w->spec.storage = e->storage;
	w->spec.fail_policy = e->fail_policy ? e->fail_policy : REDIR_FAIL_STAY;
	w->load = e->load;
	return 0;
}

static void res_defaults(void *image, const uint32_t *idx)
{
	struct res_image *w = image;

	(void)idx;
	w->spec.storage = REDIR_ST_NONVOLATILE;
	w->spec.fail_policy = REDIR_FAIL_STAY;
	w->created = time(NULL);
}

static int res_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct res_image *w = image;

	switch (col) {
	case H_RES_TARGET: return h_put_str(w->spec.target, sizeof(w->spec.target), vb);
	case H_RES_SERVER: return h_put_u32(&w->spec.server, vb);
	case H_RES_LOAD:
		/* A SET always counts, even of the same value: it makes the load
		 * an external one. */
		w->has_load = 1;
		w->load = (uint64_t)(unsigned long)*vb->val.integer;
		return 1;
	case H_RES_PINNED: return h_put_bool(&w->spec.pinned, vb);
	case H_RES_FAIL_POLICY: return h_put_int(&w->spec.fail_policy, vb);
	case H_RES_STORAGE: return h_put_int(&w->spec.storage, vb);
	default: return 0;
	}
}

static int res_ready(const void *image)
{
	return ((const struct res_image *)image)->spec.target[0] != 0;
}

/* A server this request creates counts as one that exists. */
static int server_created(uint32_t index, void *arg)
{
	const struct h_row *s = h_txn_find(arg, &h_redir_server_table, &index);

	return s && s->status == RS_ACTIVE && s->was != H_WAS_ACTIVE;
}

static int res_check(struct h_row *row, struct h_txn *txn)
{
	const struct res_image *w = row->work;
	struct redir_txn_view view = {.server_created = server_created, .arg = txn};
	int rc;

	switch (row->op) {
	case H_OP_CREATE: return redir_resource_validate_in(row->idx[0], &w->spec, &view);
	case H_OP_UPDATE:
		if (h_row_changed(row, H_RES_FAIL_POLICY) &&
		    (rc = redir_resource_validate_fail_policy(row->idx[0], w->spec.fail_policy)) < 0)
			return rc;
		return h_row_changed(row, H_RES_SERVER) ? redir_resource_validate_move(row->idx[0], w->spec.server) : 0;
	case H_OP_DESTROY: return redir_resource_validate_destroy(row->idx[0]);
	default: return 0;
	}
}

enum { DONE_CREATE = 1u, DONE_PINNED = 2u, DONE_LOAD = 4u, DONE_SERVER = 8u, DONE_POLICY = 16u };

static int res_action(struct h_row *row, struct h_txn *txn)
{
	const struct res_image *w = row->work;
	const struct res_image *old = row->old;
	int rc;

	(void)txn;
	if (row->op == H_OP_CREATE) {
		if ((rc = redir_resource_create(row->idx[0], &w->spec)) < 0)
			return rc;
		row->done |= DONE_CREATE;
		if (w->has_load && (rc = redir_resource_set_load(row->idx[0], w->load)) < 0)
			return rc;
		cm_log(CM_LOG_INFO, "handlers", "redirector resource %u (%s) created by SET", (unsigned int)row->idx[0],
		       w->spec.target);
		return 0;
	}
	/* Cheapest to undo first; the move, which ends sessions, last. */
	if (h_row_changed(row, H_RES_PINNED)) {
		if ((rc = redir_resource_set_pinned(row->idx[0], w->spec.pinned)) < 0)
			return rc;
		row->done |= DONE_PINNED;
	}
	if (h_row_changed(row, H_RES_FAIL_POLICY)) {
		if ((rc = redir_resource_set_fail_policy(row->idx[0], w->spec.fail_policy)) < 0)
			return rc;
		row->done |= DONE_POLICY;
	}
	if (h_row_changed(row, H_RES_LOAD)) {
		if ((rc = redir_resource_set_load(row->idx[0], w->load)) < 0)
			return rc;
		row->done |= DONE_LOAD;
	}
	if (h_row_changed(row, H_RES_SERVER)) {
		if ((rc = redir_resource_move(row->idx[0], w->spec.server)) < 0)
			return rc;
		row->done |= DONE_SERVER;
		cm_log(CM_LOG_INFO, "handlers", "redirector resource %u moved by SET: server %u -> %u",
		       (unsigned int)row->idx[0], (unsigned int)old->spec.server, (unsigned int)w->spec.server);
	}
	return 0;
}

static int res_undo(struct h_row *row)
{
	const struct res_image *old = row->old;
	int rc = 0, r2;

	if ((row->done & DONE_CREATE) && (r2 = redir_resource_destroy(row->idx[0])) < 0)
		rc = r2;
	if ((row->done & DONE_SERVER) && (r2 = redir_resource_move(row->idx[0], old->spec.server)) < 0)
		rc = r2;
	if ((row->done & DONE_LOAD) && (r2 = redir_resource_set_load(row->idx[0], old->load)) < 0)
		rc = r2;
	if ((row->done & DONE_PINNED) && (r2 = redir_resource_set_pinned(row->idx[0], old->spec.pinned)) < 0)
		rc = r2;
	if ((row->done & DONE_POLICY) && (r2 = redir_resource_set_fail_policy(row->idx[0], old->spec.fail_policy)) < 0)
		rc = r2;
	row->done = 0;
	return rc;
}

static int res_commit(struct h_row *row)
{
	if (row->op != H_OP_DESTROY)
		return 0;
	int rc = redir_resource_destroy(row->idx[0]);

	if (rc == 0)
		cm_log(CM_LOG_INFO, "handlers", "redirector resource %u destroyed by SET", (unsigned int)row->idx[0]);
	return rc;
}

static const struct h_table_ops resource_ops = {
    .next = res_next,
    .get = res_get,
    .get_work = res_get_work,
    .load = res_load,
    .defaults = res_defaults,
    .store = res_store,
    .ready = res_ready,
    .check = res_check,
    .action = res_action,
    .undo = res_undo,
    .commit = res_commit,
};

struct h_table h_redir_resource_table = {
    .name = "sanRedirResourceTable",
    .root = resource_table_oid,
    .root_len = OID_LENGTH(resource_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = resource_cols,
    .ncols = sizeof(resource_cols) / sizeof(resource_cols[0]),
    .rowstatus_col = H_RES_ROW_STATUS,
    .storage_col = H_RES_STORAGE,
    .rank = 1, /* after the servers it may be mapped to */
    .image_size = sizeof(struct res_image),
    .writable = 1,
    .ops = &resource_ops,
};

int h_redir_resource_table_init(void)
{
	return h_table_register(&h_redir_resource_table);
}

void h_redir_resource_table_shutdown(void)
{
	h_table_unregister(&h_redir_resource_table);
}
