/* redirResourceTable.c: sanRedirResourceTable, targets and their mapped servers, read live from the engine; RowStatus, moves and loads by SET. */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "handlers/redir.h"
#include "common/log.h"

static const oid resource_table_oid[] = {SA_OID_REDIR_RESOURCE_TABLE};

struct res_pending {
	struct h_redir_pending p; /* first: the shared list code sees this */
	struct redir_resource_spec spec;
	int has_load;
	uint64_t load;
};

static struct h_redir_pending *pending;

static struct res_pending *pending_find(uint32_t index)
{
	return (struct res_pending *)h_redir_pending_find(pending, index);
}

static int res_readable(unsigned int col)
{
	/* PrevServer is accessible-for-notify: in traps only. */
	return (col >= H_RES_TARGET && col <= H_RES_ROW_STATUS) || col == H_RES_ORIGIN;
}

static uint32_t res_next(uint32_t after)
{
	const struct redir_resource *e = redir_resource_next(after);

	return h_redir_pending_merge(pending, e ? e->index : 0, after);
}

static void set_load32(netsnmp_variable_list *vb, uint64_t load)
{
	/* Unsigned32 saturates; LoadHC has the whole value. */
	h_redir_set_u32(vb, ASN_UNSIGNED, load > UINT32_MAX ? UINT32_MAX : (uint32_t)load);
}

static int pending_get(const struct res_pending *w, unsigned int col, netsnmp_variable_list *vb)
{
	switch (col) {
	case H_RES_TARGET: h_redir_set_str(vb, w->spec.target, sizeof(w->spec.target)); break;
	case H_RES_SERVER: h_redir_set_u32(vb, ASN_UNSIGNED, w->spec.server); break;
	case H_RES_LOAD: set_load32(vb, w->load); break;
	case H_RES_LOAD_HC: h_redir_set_u64(vb, ASN_COUNTER64, w->load); break;
	case H_RES_LOAD_SOURCE: h_redir_set_int(vb, w->has_load ? 2 : 1); break;
	case H_RES_PINNED: h_redir_set_int(vb, w->spec.pinned ? 1 : 2); break;
	case H_RES_MAPPED_SINCE: h_redir_set_time(vb, w->p.created); break;
	case H_RES_REDIRECTS: h_redir_set_u64(vb, ASN_COUNTER64, 0); break;
	case H_RES_STORAGE: h_redir_set_int(vb, w->spec.storage); break;
	case H_RES_ROW_STATUS: h_redir_set_int(vb, w->p.status); break;
	case H_RES_ORIGIN: h_redir_set_int(vb, REDIR_ORIGIN_SNMP); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

int h_redir_resource_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_resource *e = redir_resource_find(index);
	struct res_pending *w;

	if (!e) {
		w = pending_find(index);
		if (!w)
			return SNMP_NOSUCHINSTANCE;
		return pending_get(w, col, vb);
	}
	switch (col) {
	case H_RES_TARGET: h_redir_set_str(vb, e->target, sizeof(e->target)); break;
	case H_RES_SERVER: h_redir_set_u32(vb, ASN_UNSIGNED, e->server); break;
	case H_RES_LOAD: set_load32(vb, e->load); break;
	case H_RES_LOAD_HC: h_redir_set_u64(vb, ASN_COUNTER64, e->load); break;
	case H_RES_LOAD_SOURCE: h_redir_set_int(vb, e->load_set ? 2 : 1); break;
	case H_RES_PINNED: h_redir_set_int(vb, e->pinned ? 1 : 2); break;
	case H_RES_MAPPED_SINCE: h_redir_set_time(vb, e->mapped_since); break;
	case H_RES_REDIRECTS: h_redir_set_u64(vb, ASN_COUNTER64, e->redirects); break;
	case H_RES_STORAGE: h_redir_set_int(vb, e->storage); break;
	case H_RES_ROW_STATUS: h_redir_set_int(vb, RS_ACTIVE); break;
	case H_RES_ORIGIN: h_redir_set_int(vb, e->origin); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int res_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_resource_get(index, col, vb);
}

/* ---- SET: this table's columns and verbs; redirector.c runs the phases */

enum { CHG_SERVER = 1u, CHG_LOAD = 2u, CHG_PINNED = 4u };

struct res_row {
	struct h_redir_row h; /* first: the shared SET code sees this */
	struct res_pending work;
	int server_done, load_done, pinned_done;
	uint32_t old_server;
	uint64_t old_load;
	int old_pinned;
};

static int res_load(uint32_t index, struct h_redir_pending *p, int *origin, int *storage)
{
	const struct redir_resource *e = redir_resource_find(index);
	struct res_pending *w = (struct res_pending *)p;

	if (!e)
		return -ENOENT;
	snprintf(w->spec.target, sizeof(w->spec.target), "%s", e->target);
	w->spec.server = e->server;
	w->spec.pinned = e->pinned;
	w->spec.storage = e->storage;
	w->load = e->load;
	*origin = e->origin;
	*storage = e->storage;
	return 0;
}

static void res_defaults(struct h_redir_pending *p)
{
	((struct res_pending *)p)->spec.storage = REDIR_ST_NONVOLATILE;
}

static int res_check_column(struct h_redir_row *row, unsigned int col, const netsnmp_variable_list *vb)
{
	struct res_pending *w = &((struct res_row *)row)->work;
	int rc;

	switch (col) {
	case H_RES_TARGET: return h_redir_check_name(row, vb, w->spec.target, REDIR_NAME_MAX, 1);
	case H_RES_SERVER:
		if ((rc = h_redir_check_uint(vb, 0, UINT32_MAX)))
			return rc;
		if (row->kind == H_ROW_ENGINE && (unsigned long)*vb->val.integer != w->spec.server)
			row->chg |= CHG_SERVER;
		w->spec.server = (uint32_t)*vb->val.integer;
		break;
	case H_RES_LOAD:
		if ((rc = h_redir_check_uint(vb, 0, UINT32_MAX)))
			return rc;
		/* A SET always counts, even of the same value: it makes the
		 * load an external one (LoadSource set(2)). */
		row->chg |= CHG_LOAD;
		w->has_load = 1;
		w->load = (uint64_t)(unsigned long)*vb->val.integer;
		break;
	case H_RES_PINNED:
		if ((rc = netsnmp_check_vb_truthvalue(vb)))
			return rc;
		if (row->kind == H_ROW_ENGINE && (*vb->val.integer == 1) != (w->spec.pinned != 0))
			row->chg |= CHG_PINNED;
		w->spec.pinned = *vb->val.integer == 1;
		break;
	case H_RES_STORAGE: return h_redir_check_storage(row, vb, &w->spec.storage);
	case H_RES_ROW_STATUS: return h_redir_check_rowstatus(row, vb);
	case H_RES_PREV_SERVER: return SNMP_ERR_NOACCESS; /* accessible-for-notify */
	default: return SNMP_ERR_NOTWRITABLE;
	}
	return SNMP_ERR_NOERROR;
}

static int res_ready(const struct h_redir_pending *p)
{
	return ((const struct res_pending *)p)->spec.target[0] != 0;
}

static int res_validate_update(struct h_redir_row *row)
{
	const struct res_pending *w = &((struct res_row *)row)->work;

	if (row->chg & CHG_SERVER)
		return h_redir_validate_err(redir_resource_validate_move(row->index, w->spec.server));
	return SNMP_ERR_NOERROR;
}

static int res_validate_create(struct h_redir_row *row)
{
	return redir_resource_validate(row->index, &((struct res_row *)row)->work.spec);
}

static int res_create(struct h_redir_row *row)
{
	return redir_resource_create(row->index, &((struct res_row *)row)->work.spec);
}

static int res_created(struct h_redir_row *row)
{
	const struct res_pending *w = &((struct res_row *)row)->work;
	int rc;

	if (w->has_load && (rc = redir_resource_set_load(row->index, w->load)) < 0)
		return rc;
	sa_log(SA_LOG_INFO, "handlers", "redirector resource %u (%s) created by SET", (unsigned int)row->index,
	       w->spec.target);
	return 0;
}

static int res_update(struct h_redir_row *row)
{
	struct res_row *rr = (struct res_row *)row;
	const struct redir_resource *e;
	int rc;

	if (!(e = redir_resource_find(row->index)))
		return -ENOENT;
	rr->old_server = e->server;
	rr->old_load = e->load;
	rr->old_pinned = e->pinned;
	/* Cheapest to undo first; the move, which ends sessions, last. */
	if (row->chg & CHG_PINNED) {
		if ((rc = redir_resource_set_pinned(row->index, rr->work.spec.pinned)) < 0)
			return rc;
		rr->pinned_done = 1;
	}
	if (row->chg & CHG_LOAD) {
		if ((rc = redir_resource_set_load(row->index, rr->work.load)) < 0)
			return rc;
		rr->load_done = 1;
	}
	if (row->chg & CHG_SERVER) {
		if ((rc = redir_resource_move(row->index, rr->work.spec.server)) < 0)
			return rc;
		rr->server_done = 1;
		sa_log(SA_LOG_INFO, "handlers", "redirector resource %u moved by SET: server %u -> %u",
		       (unsigned int)row->index, (unsigned int)rr->old_server, (unsigned int)rr->work.spec.server);
	}
	return 0;
}

static int res_undo_update(struct h_redir_row *row)
{
	struct res_row *rr = (struct res_row *)row;
	int rc = 0, r2;

	if (rr->server_done && (r2 = redir_resource_move(row->index, rr->old_server)) < 0)
		rc = r2;
	if (rr->load_done && (r2 = redir_resource_set_load(row->index, rr->old_load)) < 0)
		rc = r2;
	if (rr->pinned_done && (r2 = redir_resource_set_pinned(row->index, rr->old_pinned)) < 0)
		rc = r2;
	rr->server_done = rr->load_done = rr->pinned_done = 0;
	return rc;
}

static const struct h_redir_rows resource_rows = {
    .what = "resource",
    .txn_key = "sanRedirResourceTable:txn",
    .last_col = H_RES_ORIGIN,
    .row_size = sizeof(struct res_row),
    .work_offset = offsetof(struct res_row, work),
    .pending_size = sizeof(struct res_pending),
    .pending = &pending,
    .load = res_load,
    .defaults = res_defaults,
    .check_column = res_check_column,
    .ready = res_ready,
    .validate_update = res_validate_update,
    .validate_create = res_validate_create,
    .create = res_create,
    .created = res_created,
    .update = res_update,
    .undo_update = res_undo_update,
    .destroy = redir_resource_destroy,
};

static struct h_redir_table resource_table = {
    .name = "sanRedirResourceTable",
    .root = resource_table_oid,
    .root_len = OID_LENGTH(resource_table_oid),
    .min_col = H_RES_TARGET,
    .max_col = H_RES_ORIGIN,
    .writable = 1,
    .readable = res_readable,
    .next = res_next,
    .get = res_get,
    .set = h_redir_rows_set,
    .rows = &resource_rows,
};

int h_redir_resource_table_init(void)
{
	return h_redir_table_register(&resource_table);
}

void h_redir_resource_table_shutdown(void)
{
	h_redir_table_unregister(&resource_table);
	h_redir_pending_free_all(&pending);
}
