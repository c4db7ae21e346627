/* redirServerTable.c: sanRedirServerTable, the redirector's storage servers, read live from the engine; RowStatus SETs. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers/redir.h"
#include "subagent/log.h"

static const oid server_table_oid[] = {SA_OID_REDIR_SERVER_TABLE};

/* A createAndWait row: what the SETs so far asked for. */
struct srv_pending {
	struct h_redir_pending p; /* first: the shared list code sees this */
	struct redir_server_spec spec;
	long addr_type;
	u_char addr[16];
	size_t addr_len;
};

static struct h_redir_pending *pending;

static struct srv_pending *pending_find(uint32_t index)
{
	return (struct srv_pending *)h_redir_pending_find(pending, index);
}

static int srv_readable(unsigned int col)
{
	return col >= H_SRV_NAME && col <= H_SRV_ROW_STATUS;
}

static uint32_t srv_next(uint32_t after)
{
	const struct redir_server *s = redir_server_next(after);
	uint32_t e = s ? s->index : 0, p = h_redir_pending_next(pending, after);

	/* Engine rows and pending rows merge in index order. */
	if (!e)
		return p;
	if (!p)
		return e;
	return e < p ? e : p;
}

static void spec_defaults(struct srv_pending *w)
{
	memset(&w->spec, 0, sizeof(w->spec));
	w->spec.port = 3260;
	w->spec.capacity = 1;
	w->spec.admin = REDIR_ADMIN_UP;
	w->spec.storage = REDIR_ST_NONVOLATILE;
	w->spec.tgt_control = -1;
	w->addr_type = 0;
	w->addr_len = 0;
}

static int pending_ready(const struct srv_pending *w)
{
	return (w->addr_type == 1 && w->addr_len == 4) || (w->addr_type == 2 && w->addr_len == 16);
}

static int pending_get(const struct srv_pending *w, unsigned int col, netsnmp_variable_list *vb)
{
	switch (col) {
	case H_SRV_NAME: h_redir_set_str(vb, w->spec.name, sizeof(w->spec.name)); break;
	case H_SRV_ADDR_TYPE: h_redir_set_int(vb, w->addr_type); break;
	case H_SRV_ADDR: snmp_set_var_typed_value(vb, ASN_OCTET_STR, w->addr, w->addr_len); break;
	case H_SRV_PORT: h_redir_set_u32(vb, ASN_UNSIGNED, w->spec.port); break;
	case H_SRV_CAPACITY: h_redir_set_u32(vb, ASN_UNSIGNED, w->spec.capacity); break;
	case H_SRV_ADMIN: h_redir_set_int(vb, w->spec.admin); break;
	case H_SRV_OPER: h_redir_set_int(vb, REDIR_OPER_UNKNOWN); break;
	case H_SRV_LOAD: h_redir_set_u64(vb, ASN_COUNTER64, 0); break;
	case H_SRV_RESOURCES: h_redir_set_u32(vb, ASN_UNSIGNED, 0); break;
	case H_SRV_LAST_CHANGE: h_redir_set_time(vb, w->p.created); break;
	case H_SRV_LAST_ERROR: h_redir_set_str(vb, "", 0); break;
	case H_SRV_PROBES_OK:
	case H_SRV_PROBES_FAILED: h_redir_set_u64(vb, ASN_COUNTER64, 0); break;
	case H_SRV_TGT_CONTROL: h_redir_set_int(vb, w->spec.tgt_control); break;
	case H_SRV_STORAGE: h_redir_set_int(vb, w->spec.storage); break;
	case H_SRV_ROW_STATUS: h_redir_set_int(vb, w->p.status); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

int h_redir_server_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_server *s = redir_server_find(index);
	struct srv_pending *w;
	u_char addr[16];
	size_t len;
	int type;

	if (!s) {
		w = pending_find(index);
		if (!w)
			return SNMP_NOSUCHINSTANCE;
		return pending_get(w, col, vb);
	}
	switch (col) {
	case H_SRV_NAME: h_redir_set_str(vb, s->name, sizeof(s->name)); break;
	case H_SRV_ADDR_TYPE:
		h_redir_set_int(vb, h_redir_host_addr(s->family, s->host, addr, &len));
		break;
	case H_SRV_ADDR:
		type = h_redir_host_addr(s->family, s->host, addr, &len);
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, addr, type ? len : 0);
		break;
	case H_SRV_PORT: h_redir_set_u32(vb, ASN_UNSIGNED, s->port); break;
	case H_SRV_CAPACITY: h_redir_set_u32(vb, ASN_UNSIGNED, s->capacity); break;
	case H_SRV_ADMIN: h_redir_set_int(vb, s->admin); break;
	case H_SRV_OPER: h_redir_set_int(vb, s->oper); break;
	case H_SRV_LOAD: h_redir_set_u64(vb, ASN_COUNTER64, s->load); break;
	case H_SRV_RESOURCES: h_redir_set_u32(vb, ASN_GAUGE, s->nresources); break;
	case H_SRV_LAST_CHANGE: h_redir_set_time(vb, s->last_change); break;
	case H_SRV_LAST_ERROR: h_redir_set_str(vb, s->last_error, 255); break;
	case H_SRV_PROBES_OK: h_redir_set_u64(vb, ASN_COUNTER64, s->probes_ok); break;
	case H_SRV_PROBES_FAILED: h_redir_set_u64(vb, ASN_COUNTER64, s->probes_failed); break;
	case H_SRV_TGT_CONTROL: h_redir_set_int(vb, s->tgt_control); break;
	case H_SRV_STORAGE: h_redir_set_int(vb, s->storage); break;
	case H_SRV_ROW_STATUS: h_redir_set_int(vb, RS_ACTIVE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int srv_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_server_get(index, col, vb);
}

/* ---- SET ------------------------------------------------------------ */

enum row_kind { ROW_ENGINE, ROW_PENDING, ROW_ABSENT };
enum row_op { OP_NONE, OP_CREATE, OP_DESTROY, OP_PENDING, OP_PENDING_DELETE, OP_UPDATE };

/* Everything one SET PDU does to one row. */
struct srv_txn_row {
	uint32_t index;
	int kind;
	struct srv_pending work; /* the row as the PDU leaves it */
	long rs; /* RowStatus asked for, 0 = none */
	netsnmp_request_info *first; /* where row-level errors are reported */
	int op;
	int chg_admin, chg_capacity, chg_define;
	/* Undo */
	struct srv_pending *swapped_out; /* pending row taken out of the list, ours now */
	int swapped, created, admin_done, capacity_done;
	int old_admin;
	uint32_t old_capacity;
};

struct srv_txn {
	size_t n;
	struct srv_txn_row rows[];
};
#define SRV_TXN "sanRedirServerTable:txn"

static void txn_free(void *p)
{
	struct srv_txn *t = p;
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->rows[i].swapped_out);
	free(t);
}

static void work_from_engine(struct srv_pending *w, const struct redir_server *s)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->spec.name, sizeof(w->spec.name), "%s", s->name);
	snprintf(w->spec.host, sizeof(w->spec.host), "%s", s->host);
	w->spec.port = s->port;
	w->spec.capacity = s->capacity;
	w->spec.admin = s->admin;
	w->spec.storage = s->storage;
	w->spec.tgt_control = s->tgt_control;
	w->addr_type = h_redir_host_addr(s->family, s->host, w->addr, &w->addr_len);
}

static struct srv_txn_row *txn_row(struct srv_txn *t, uint32_t index, netsnmp_request_info *r)
{
	const struct redir_server *s;
	struct srv_pending *pw;
	struct srv_txn_row *row;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].index == index)
			return &t->rows[i];
	row = &t->rows[t->n++];
	memset(row, 0, sizeof(*row));
	row->index = index;
	row->first = r;
	if ((s = redir_server_find(index))) {
		row->kind = ROW_ENGINE;
		work_from_engine(&row->work, s);
	} else if ((pw = pending_find(index))) {
		row->kind = ROW_PENDING;
		row->work = *pw;
		row->work.p.next = NULL;
	} else {
		row->kind = ROW_ABSENT;
		spec_defaults(&row->work);
		row->work.p.created = time(NULL);
	}
	row->work.p.index = index;
	return row;
}

/* RESERVE1 per varbind: syntax, then what it means for its row. */
static int check_column(struct srv_txn_row *row, unsigned int col, const netsnmp_variable_list *vb)
{
	struct srv_pending *w = &row->work;
	int rc;

	switch (col) {
	case H_SRV_NAME:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, sizeof(w->spec.name) - 1)))
			return rc;
		if (memchr(vb->val.string, 0, vb->val_len))
			return SNMP_ERR_WRONGVALUE;
		if (row->kind == ROW_ENGINE && (strlen(w->spec.name) != vb->val_len ||
		                                 memcmp(w->spec.name, vb->val.string, vb->val_len) != 0))
			row->chg_define = 1;
		memcpy(w->spec.name, vb->val.string, vb->val_len);
		w->spec.name[vb->val_len] = 0;
		break;
	case H_SRV_ADDR_TYPE:
		if ((rc = netsnmp_check_vb_int_range(vb, 0, 16)))
			return rc;
		if (*vb->val.integer != 1 && *vb->val.integer != 2)
			return SNMP_ERR_WRONGVALUE; /* only ipv4(1) and ipv6(2) */
		if (row->kind == ROW_ENGINE && *vb->val.integer != w->addr_type)
			row->chg_define = 1;
		w->addr_type = *vb->val.integer;
		break;
	case H_SRV_ADDR:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, 255)))
			return rc;
		if (vb->val_len != 4 && vb->val_len != 16)
			return SNMP_ERR_WRONGLENGTH;
		if (row->kind == ROW_ENGINE &&
		    (vb->val_len != w->addr_len || memcmp(vb->val.string, w->addr, vb->val_len) != 0))
			row->chg_define = 1;
		memcpy(w->addr, vb->val.string, vb->val_len);
		w->addr_len = vb->val_len;
		break;
	case H_SRV_PORT:
		if ((rc = h_redir_check_uint(vb, 1, 65535)))
			return rc;
		if (row->kind == ROW_ENGINE && (unsigned long)*vb->val.integer != w->spec.port)
			row->chg_define = 1;
		w->spec.port = (uint16_t)*vb->val.integer;
		break;
	case H_SRV_CAPACITY:
		if ((rc = h_redir_check_uint(vb, 1, 1000000)))
			return rc;
		if (row->kind == ROW_ENGINE && (unsigned long)*vb->val.integer != w->spec.capacity)
			row->chg_capacity = 1;
		w->spec.capacity = (uint32_t)*vb->val.integer;
		break;
	case H_SRV_ADMIN:
		if ((rc = netsnmp_check_vb_int_range(vb, REDIR_ADMIN_UP, REDIR_ADMIN_DOWN)))
			return rc;
		if (row->kind == ROW_ENGINE && *vb->val.integer != w->spec.admin)
			row->chg_admin = 1;
		w->spec.admin = (int)*vb->val.integer;
		break;
	case H_SRV_TGT_CONTROL:
		if ((rc = netsnmp_check_vb_int_range(vb, -1, 65535)))
			return rc;
		if (row->kind == ROW_ENGINE && *vb->val.integer != w->spec.tgt_control)
			row->chg_define = 1;
		w->spec.tgt_control = (int)*vb->val.integer;
		break;
	case H_SRV_STORAGE:
		if ((rc = netsnmp_check_vb_int_range(vb, 1, 5)))
			return rc;
		if (row->kind == ROW_ENGINE) {
			if (*vb->val.integer != w->spec.storage)
				row->chg_define = 1;
		} else if (*vb->val.integer != REDIR_ST_VOLATILE && *vb->val.integer != REDIR_ST_NONVOLATILE) {
			return SNMP_ERR_WRONGVALUE; /* other(1), permanent(4), readOnly(5) are the agent's */
		}
		w->spec.storage = (int)*vb->val.integer;
		break;
	case H_SRV_ROW_STATUS:
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
			/* The engine has no out-of-service state: admin down is it. */
			if (row->rs == RS_CREATEANDGO || row->rs == RS_CREATEANDWAIT || row->rs == RS_NOTINSERVICE)
				return SNMP_ERR_INCONSISTENTVALUE;
			break;
		}
		break;
	default: return SNMP_ERR_NOTWRITABLE;
	}
	return SNMP_ERR_NOERROR;
}

static void work_to_spec(struct srv_pending *w)
{
	char host[INET6_ADDRSTRLEN] = "";

	inet_ntop(w->addr_type == 2 ? AF_INET6 : AF_INET, w->addr, host, sizeof(host));
	snprintf(w->spec.host, sizeof(w->spec.host), "%s", host);
	if (!w->spec.name[0])
		snprintf(w->spec.name, sizeof(w->spec.name), "server%u", (unsigned int)w->p.index);
}

/* RESERVE1 per row, once every varbind is in: the engine's validation. */
static int check_row(struct srv_txn_row *row)
{
	const struct redir_server *s = redir_server_find(row->index);
	int rc;

	if (row->kind == ROW_ABSENT) {
		if (row->rs == RS_DESTROY) {
			row->op = OP_NONE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs != RS_CREATEANDGO && row->rs != RS_CREATEANDWAIT)
			return SNMP_ERR_NOCREATION;
		if (row->rs == RS_CREATEANDWAIT) {
			row->work.p.status = pending_ready(&row->work) ? RS_NOTINSERVICE : RS_NOTREADY;
			row->op = OP_PENDING;
			return SNMP_ERR_NOERROR;
		}
	} else if (row->kind == ROW_PENDING) {
		if (row->rs == RS_DESTROY) {
			row->op = OP_PENDING_DELETE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs != RS_ACTIVE) {
			if (row->rs == RS_NOTINSERVICE && !pending_ready(&row->work))
				return SNMP_ERR_INCONSISTENTVALUE;
			row->work.p.status = pending_ready(&row->work) ? RS_NOTINSERVICE : RS_NOTREADY;
			row->op = OP_PENDING;
			return SNMP_ERR_NOERROR;
		}
	} else {
		if (!s)
			return SNMP_ERR_INCONSISTENTVALUE;
		if (row->rs == RS_DESTROY) {
			/* Config rows come and go with the config file only. */
			if (s->origin == REDIR_ORIGIN_CONFIG || s->storage == REDIR_ST_READONLY)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->op = OP_DESTROY;
			return SNMP_ERR_NOERROR;
		}
		if (row->chg_define)
			return SNMP_ERR_INCONSISTENTVALUE; /* only while not active */
		if (row->chg_capacity &&
		    (rc = h_redir_validate_err(redir_server_validate_capacity(row->index, row->work.spec.capacity))))
			return rc;
		if (row->chg_admin &&
		    (rc = h_redir_validate_err(redir_server_validate_admin(row->index, row->work.spec.admin))))
			return rc;
		row->op = row->chg_capacity || row->chg_admin ? OP_UPDATE : OP_NONE;
		return SNMP_ERR_NOERROR;
	}

	/* createAndGo, or active on a pending row: the engine creates it. */
	if (!pending_ready(&row->work))
		return SNMP_ERR_INCONSISTENTVALUE;
	work_to_spec(&row->work);
	rc = redir_server_validate(row->index, &row->work.spec);
	if (rc == -EPERM || rc == -ENOSPC)
		return SNMP_ERR_NOCREATION;
	if ((rc = h_redir_validate_err(rc)))
		return rc;
	row->op = OP_CREATE;
	return SNMP_ERR_NOERROR;
}

static int row_action(struct srv_txn_row *row)
{
	const struct redir_server *s;
	struct srv_pending *copy;
	int rc;

	switch (row->op) {
	case OP_CREATE:
		rc = redir_server_create(row->index, &row->work.spec);
		if (rc < 0)
			return rc;
		row->created = 1;
		if (row->kind == ROW_PENDING) {
			row->swapped_out = (struct srv_pending *)h_redir_pending_swap(&pending, row->index, NULL);
			row->swapped = 1;
		}
		sa_log(SA_LOG_INFO, "handlers", "redirector server %u (%s) created by SET", (unsigned int)row->index,
		       row->work.spec.name);
		return 0;
	case OP_PENDING:
		if (!(copy = malloc(sizeof(*copy))))
			return -ENOMEM;
		*copy = row->work;
		row->swapped_out = (struct srv_pending *)h_redir_pending_swap(&pending, row->index, &copy->p);
		row->swapped = 1;
		return 0;
	case OP_PENDING_DELETE:
		row->swapped_out = (struct srv_pending *)h_redir_pending_swap(&pending, row->index, NULL);
		row->swapped = 1;
		return 0;
	case OP_UPDATE:
		if (!(s = redir_server_find(row->index)))
			return -ENOENT;
		row->old_capacity = s->capacity;
		row->old_admin = s->admin;
		if (row->chg_capacity) {
			if ((rc = redir_server_set_capacity(row->index, row->work.spec.capacity)) < 0)
				return rc;
			row->capacity_done = 1;
		}
		if (row->chg_admin) {
			if ((rc = redir_server_set_admin(row->index, row->work.spec.admin)) < 0)
				return rc;
			row->admin_done = 1;
		}
		return 0;
	default: return 0;
	}
}

static int row_undo(struct srv_txn_row *row)
{
	struct h_redir_pending *mine;
	int rc = 0, r2;

	if (row->created && (rc = redir_server_destroy(row->index)) < 0)
		sa_log(SA_LOG_ERR, "handlers", "redirector server %u: cannot undo creation: %s",
		       (unsigned int)row->index, strerror(-rc));
	row->created = 0;
	if (row->swapped) {
		/* Put the old pending row back; what ACTION inserted is freed. */
		mine = h_redir_pending_swap(&pending, row->index, row->swapped_out ? &row->swapped_out->p : NULL);
		row->swapped_out = (struct srv_pending *)mine;
		row->swapped = 0;
	}
	if (row->admin_done && (r2 = redir_server_set_admin(row->index, row->old_admin)) < 0)
		rc = r2;
	if (row->capacity_done && (r2 = redir_server_set_capacity(row->index, row->old_capacity)) < 0)
		rc = r2;
	row->admin_done = row->capacity_done = 0;
	return rc;
}

static int srv_set(struct h_redir_table *tab, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct srv_txn *t = netsnmp_request_get_list_data(requests, SRV_TXN);
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
		netsnmp_request_add_list_data(requests, netsnmp_create_data_list(SRV_TXN, t, txn_free));
		for (r = requests; r; r = r->next) {
			unsigned int col;
			uint32_t index;

			if (h_redir_parse(tab, r->requestvb, &col, &index) < 0 || col < 1 || col > H_SRV_ROW_STATUS) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
				return SNMP_ERR_NOERROR;
			}
			if (col < H_SRV_NAME) {
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
				sa_log(SA_LOG_WARNING, "handlers", "redirector server %u: SET failed: %s",
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
		/* A destroy remaps resources and cannot be undone, so it runs
		 * only once every other varbind has been applied. */
		for (i = 0; i < t->n; i++) {
			if (t->rows[i].op != OP_DESTROY)
				continue;
			rc = redir_server_destroy(t->rows[i].index);
			if (rc < 0)
				sa_log(SA_LOG_ERR, "handlers", "redirector server %u: destroy failed: %s",
				       (unsigned int)t->rows[i].index, strerror(-rc));
			else
				sa_log(SA_LOG_INFO, "handlers", "redirector server %u destroyed by SET",
				       (unsigned int)t->rows[i].index);
		}
		break;

	default: break;
	}
	return SNMP_ERR_NOERROR;
}

static struct h_redir_table server_table = {
	.name = "sanRedirServerTable",
	.root = server_table_oid,
	.root_len = OID_LENGTH(server_table_oid),
	.min_col = H_SRV_NAME,
	.max_col = H_SRV_ROW_STATUS,
	.writable = 1,
	.readable = srv_readable,
	.next = srv_next,
	.get = srv_get,
	.set = srv_set,
};

int h_redir_server_table_init(void)
{
	return h_redir_table_register(&server_table);
}

void h_redir_server_table_shutdown(void)
{
	h_redir_table_unregister(&server_table);
	h_redir_pending_free_all(&pending);
}
