/* redirResourceTable.c: sanRedirResourceTable, targets and their mapped servers, read live from the engine; RowStatus, moves and loads by SET. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers/redir.h"
#include "subagent/log.h"

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
	return col >= H_RES_TARGET && col <= H_RES_ROW_STATUS;
}

static uint32_t res_next(uint32_t after)
{
	const struct redir_resource *e = redir_resource_next(after);
	uint32_t a = e ? e->index : 0, p = h_redir_pending_next(pending, after);

	if (!a)
		return p;
	if (!p)
		return a;
	return a < p ? a : p;
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
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int res_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_resource_get(index, col, vb);
}

/* ---- SET ------------------------------------------------------------ */

enum row_kind { ROW_ENGINE, ROW_PENDING, ROW_ABSENT };
enum row_op { OP_NONE, OP_CREATE, OP_DESTROY, OP_PENDING, OP_PENDING_DELETE, OP_UPDATE };

struct res_txn_row {
	uint32_t index;
	int kind;
	struct res_pending work;
	long rs;
	netsnmp_request_info *first;
	int op;
	int chg_server, chg_load, chg_pinned, chg_define;
	/* Undo */
	struct res_pending *swapped_out;
	int swapped, created, server_done, load_done, pinned_done;
	uint32_t old_server;
	uint64_t old_load;
	int old_pinned;
};

struct res_txn {
	size_t n;
	struct res_txn_row rows[];
};
#define RES_TXN "sanRedirResourceTable:txn"

static void txn_free(void *p)
{
	struct res_txn *t = p;
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->rows[i].swapped_out);
	free(t);
}

static struct res_txn_row *txn_row(struct res_txn *t, uint32_t index, netsnmp_request_info *r)
{
	const struct redir_resource *e;
	struct res_pending *pw;
	struct res_txn_row *row;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].index == index)
			return &t->rows[i];
	row = &t->rows[t->n++];
	memset(row, 0, sizeof(*row));
	row->index = index;
	row->first = r;
	if ((e = redir_resource_find(index))) {
		row->kind = ROW_ENGINE;
		snprintf(row->work.spec.target, sizeof(row->work.spec.target), "%s", e->target);
		row->work.spec.server = e->server;
		row->work.spec.pinned = e->pinned;
		row->work.spec.storage = e->storage;
		row->work.load = e->load;
	} else if ((pw = pending_find(index))) {
		row->kind = ROW_PENDING;
		row->work = *pw;
		row->work.p.next = NULL;
	} else {
		row->kind = ROW_ABSENT;
		row->work.spec.storage = REDIR_ST_NONVOLATILE;
		row->work.p.created = time(NULL);
	}
	row->work.p.index = index;
	return row;
}

static int check_column(struct res_txn_row *row, unsigned int col, const netsnmp_variable_list *vb)
{
	struct res_pending *w = &row->work;
	int rc;

	switch (col) {
	case H_RES_TARGET:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, REDIR_NAME_MAX - 1)))
			return rc;
		if (vb->val_len < 1)
			return SNMP_ERR_WRONGLENGTH;
		if (memchr(vb->val.string, 0, vb->val_len))
			return SNMP_ERR_WRONGVALUE;
		if (row->kind == ROW_ENGINE && (strlen(w->spec.target) != vb->val_len ||
		                                 memcmp(w->spec.target, vb->val.string, vb->val_len) != 0))
			row->chg_define = 1;
		memcpy(w->spec.target, vb->val.string, vb->val_len);
		w->spec.target[vb->val_len] = 0;
		break;
	case H_RES_SERVER:
		if ((rc = h_redir_check_uint(vb, 0, UINT32_MAX)))
			return rc;
		if (row->kind == ROW_ENGINE && (unsigned long)*vb->val.integer != w->spec.server)
			row->chg_server = 1;
		w->spec.server = (uint32_t)*vb->val.integer;
		break;
	case H_RES_LOAD:
		if ((rc = h_redir_check_uint(vb, 0, UINT32_MAX)))
			return rc;
		/* A SET always counts, even of the same value: it makes the
		 * load an external one (LoadSource set(2)). */
		row->chg_load = 1;
		w->has_load = 1;
		w->load = (uint64_t)(unsigned long)*vb->val.integer;
		break;
	case H_RES_PINNED:
		if ((rc = netsnmp_check_vb_truthvalue(vb)))
			return rc;
		if (row->kind == ROW_ENGINE && (*vb->val.integer == 1) != (w->spec.pinned != 0))
			row->chg_pinned = 1;
		w->spec.pinned = *vb->val.integer == 1;
		break;
	case H_RES_STORAGE:
		if ((rc = netsnmp_check_vb_int_range(vb, 1, 5)))
			return rc;
		if (row->kind == ROW_ENGINE) {
			if (*vb->val.integer != w->spec.storage)
				row->chg_define = 1;
		} else if (*vb->val.integer != REDIR_ST_VOLATILE && *vb->val.integer != REDIR_ST_NONVOLATILE) {
			return SNMP_ERR_WRONGVALUE;
		}
		w->spec.storage = (int)*vb->val.integer;
		break;
	case H_RES_ROW_STATUS:
		if ((rc = netsnmp_check_vb_rowstatus_value(vb)))
			return rc;
		row->rs = *vb->val.integer;
		switch (row->kind) {
		case ROW_ABSENT:
			if (row->rs == RS_ACTIVE || row->rs == RS_NOTINSERVICE)
				return SNMP_ERR_INCONSISTENTVALUE;
			break;
		case ROW_PENDING:
			if (row->rs == RS_CREATEANDGO || row->rs == RS_CREATEANDWAIT)
				return SNMP_ERR_INCONSISTENTVALUE;
			break;
		case ROW_ENGINE:
			if (row->rs == RS_CREATEANDGO || row->rs == RS_CREATEANDWAIT || row->rs == RS_NOTINSERVICE)
				return SNMP_ERR_INCONSISTENTVALUE;
			break;
		}
		break;
	case H_RES_PREV_SERVER: return SNMP_ERR_NOACCESS; /* accessible-for-notify */
	default: return SNMP_ERR_NOTWRITABLE;
	}
	return SNMP_ERR_NOERROR;
}

static int check_row(struct res_txn_row *row)
{
	const struct redir_resource *e = redir_resource_find(row->index);
	int ready = row->work.spec.target[0] != 0;
	int rc;

	if (row->kind == ROW_ABSENT) {
		if (row->rs == RS_DESTROY) {
			row->op = OP_NONE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs != RS_CREATEANDGO && row->rs != RS_CREATEANDWAIT)
			return SNMP_ERR_NOCREATION;
		if (row->rs == RS_CREATEANDWAIT) {
			row->work.p.status = ready ? RS_NOTINSERVICE : RS_NOTREADY;
			row->op = OP_PENDING;
			return SNMP_ERR_NOERROR;
		}
	} else if (row->kind == ROW_PENDING) {
		if (row->rs == RS_DESTROY) {
			row->op = OP_PENDING_DELETE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs != RS_ACTIVE) {
			if (row->rs == RS_NOTINSERVICE && !ready)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->work.p.status = ready ? RS_NOTINSERVICE : RS_NOTREADY;
			row->op = OP_PENDING;
			return SNMP_ERR_NOERROR;
		}
	} else {
		if (!e)
			return SNMP_ERR_INCONSISTENTVALUE;
		if (row->rs == RS_DESTROY) {
			if (e->origin == REDIR_ORIGIN_CONFIG || e->storage == REDIR_ST_READONLY)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->op = OP_DESTROY;
			return SNMP_ERR_NOERROR;
		}
		if (row->chg_define)
			return SNMP_ERR_INCONSISTENTVALUE;
		if (row->chg_server &&
		    (rc = h_redir_validate_err(redir_resource_validate_move(row->index, row->work.spec.server))))
			return rc;
		row->op = row->chg_server || row->chg_load || row->chg_pinned ? OP_UPDATE : OP_NONE;
		return SNMP_ERR_NOERROR;
	}

	if (!ready)
		return SNMP_ERR_INCONSISTENTVALUE;
	rc = redir_resource_validate(row->index, &row->work.spec);
	if (rc == -EPERM || rc == -ENOSPC)
		return SNMP_ERR_NOCREATION;
	if ((rc = h_redir_validate_err(rc)))
		return rc;
	row->op = OP_CREATE;
	return SNMP_ERR_NOERROR;
}

static int row_action(struct res_txn_row *row)
{
	const struct redir_resource *e;
	struct res_pending *copy;
	int rc;

	switch (row->op) {
	case OP_CREATE:
		rc = redir_resource_create(row->index, &row->work.spec);
		if (rc < 0)
			return rc;
		row->created = 1;
		if (row->kind == ROW_PENDING) {
			row->swapped_out = (struct res_pending *)h_redir_pending_swap(&pending, row->index, NULL);
			row->swapped = 1;
		}
		if (row->work.has_load && (rc = redir_resource_set_load(row->index, row->work.load)) < 0)
			return rc;
		sa_log(SA_LOG_INFO, "handlers", "redirector resource %u (%s) created by SET", (unsigned int)row->index,
		       row->work.spec.target);
		return 0;
	case OP_PENDING:
		if (!(copy = malloc(sizeof(*copy))))
			return -ENOMEM;
		*copy = row->work;
		row->swapped_out = (struct res_pending *)h_redir_pending_swap(&pending, row->index, &copy->p);
		row->swapped = 1;
		return 0;
	case OP_PENDING_DELETE:
		row->swapped_out = (struct res_pending *)h_redir_pending_swap(&pending, row->index, NULL);
		row->swapped = 1;
		return 0;
	case OP_UPDATE:
		if (!(e = redir_resource_find(row->index)))
			return -ENOENT;
		row->old_server = e->server;
		row->old_load = e->load;
		row->old_pinned = e->pinned;
		/* Cheapest to undo first; the move, which ends sessions, last. */
		if (row->chg_pinned) {
			if ((rc = redir_resource_set_pinned(row->index, row->work.spec.pinned)) < 0)
				return rc;
			row->pinned_done = 1;
		}
		if (row->chg_load) {
			if ((rc = redir_resource_set_load(row->index, row->work.load)) < 0)
				return rc;
			row->load_done = 1;
		}
		if (row->chg_server) {
			if ((rc = redir_resource_move(row->index, row->work.spec.server)) < 0)
				return rc;
			row->server_done = 1;
			sa_log(SA_LOG_INFO, "handlers", "redirector resource %u moved by SET: server %u -> %u",
			       (unsigned int)row->index, (unsigned int)row->old_server,
			       (unsigned int)row->work.spec.server);
		}
		return 0;
	default: return 0;
	}
}

static int row_undo(struct res_txn_row *row)
{
	struct h_redir_pending *mine;
	int rc = 0, r2;

	if (row->created && (rc = redir_resource_destroy(row->index)) < 0)
		sa_log(SA_LOG_ERR, "handlers", "redirector resource %u: cannot undo creation: %s",
		       (unsigned int)row->index, strerror(-rc));
	row->created = 0;
	if (row->swapped) {
		mine = h_redir_pending_swap(&pending, row->index, row->swapped_out ? &row->swapped_out->p : NULL);
		row->swapped_out = (struct res_pending *)mine;
		row->swapped = 0;
	}
	if (row->server_done && (r2 = redir_resource_move(row->index, row->old_server)) < 0)
		rc = r2;
	if (row->load_done && (r2 = redir_resource_set_load(row->index, row->old_load)) < 0)
		rc = r2;
	if (row->pinned_done && (r2 = redir_resource_set_pinned(row->index, row->old_pinned)) < 0)
		rc = r2;
	row->server_done = row->load_done = row->pinned_done = 0;
	return rc;
}

static int res_set(struct h_redir_table *tab, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct res_txn *t = netsnmp_request_get_list_data(requests, RES_TXN);
	netsnmp_request_info *r;
	size_t n = 0, i;
	int rc;

	switch (reqinfo->mode) {
	case MODE_SET_RESERVE1:
		for (r = requests; r; r = r->next)
			n++;
		t = calloc(1, sizeof(*t) + n * sizeof(t->rows[0]));
		if (!t) {
			netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_RESOURCEUNAVAILABLE);
			break;
		}
		netsnmp_request_add_list_data(requests, netsnmp_create_data_list(RES_TXN, t, txn_free));
		for (r = requests; r; r = r->next) {
			unsigned int col;
			uint32_t index;

			if (h_redir_parse(tab, r->requestvb, &col, &index) < 0 || col < 1 || col > H_RES_PREV_SERVER) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
				return SNMP_ERR_NOERROR;
			}
			if (col < H_RES_TARGET) {
				/* The index column is not-accessible. */
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOACCESS);
				return SNMP_ERR_NOERROR;
			}
			rc = check_column(txn_row(t, index, r), col, r->requestvb);
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, r, rc);
				return SNMP_ERR_NOERROR;
			}
		}
		for (i = 0; i < t->n; i++) {
			rc = check_row(&t->rows[i]);
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, t->rows[i].first, rc);
				return SNMP_ERR_NOERROR;
			}
		}
		break;

	case MODE_SET_ACTION:
		if (!t)
			break;
		for (i = 0; i < t->n; i++) {
			rc = row_action(&t->rows[i]);
			if (rc < 0) {
				sa_log(SA_LOG_WARNING, "handlers", "redirector resource %u: SET failed: %s",
				       (unsigned int)t->rows[i].index, strerror(-rc));
				netsnmp_set_request_error(reqinfo, t->rows[i].first, h_redir_action_err(rc));
				break;
			}
		}
		break;

	case MODE_SET_UNDO:
		if (!t)
			break;
		for (i = t->n; i-- > 0;)
			if (row_undo(&t->rows[i]) < 0)
				netsnmp_set_request_error(reqinfo, t->rows[i].first, SNMP_ERR_UNDOFAILED);
		break;

	case MODE_SET_COMMIT:
		if (!t)
			break;
		for (i = 0; i < t->n; i++) {
			if (t->rows[i].op != OP_DESTROY)
				continue;
			rc = redir_resource_destroy(t->rows[i].index);
			if (rc < 0)
				sa_log(SA_LOG_ERR, "handlers", "redirector resource %u: destroy failed: %s",
				       (unsigned int)t->rows[i].index, strerror(-rc));
			else
				sa_log(SA_LOG_INFO, "handlers", "redirector resource %u destroyed by SET",
				       (unsigned int)t->rows[i].index);
		}
		break;

	default: break;
	}
	return SNMP_ERR_NOERROR;
}

static struct h_redir_table resource_table = {
	.name = "sanRedirResourceTable",
	.root = resource_table_oid,
	.root_len = OID_LENGTH(resource_table_oid),
	.min_col = H_RES_TARGET,
	.max_col = H_RES_ROW_STATUS,
	.writable = 1,
	.readable = res_readable,
	.next = res_next,
	.get = res_get,
	.set = res_set,
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
