/* redirServerTable.c: sanRedirServerTable, the redirector's storage servers, read live from the engine; RowStatus SETs. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "handlers/redir.h"
#include "common/log.h"

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
	return col >= H_SRV_NAME && col <= H_SRV_AGENT_STATUS;
}

static uint32_t srv_next(uint32_t after)
{
	const struct redir_server *s = redir_server_next(after);

	return h_redir_pending_merge(pending, s ? s->index : 0, after);
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
	/* Agents come from the config file only. */
	case H_SRV_AGENT: h_redir_set_str(vb, "", 0); break;
	case H_SRV_AGENT_STATUS: h_redir_set_int(vb, REDIR_AGENT_NONE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

int h_redir_server_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_server *s = redir_server_find(index);
	const struct redir_agent_info *ag;
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
	case H_SRV_AGENT:
		ag = redir_server_agent(index);
		h_redir_set_str(vb, ag ? ag->peer : "", ag ? sizeof(ag->peer) : 0);
		break;
	case H_SRV_AGENT_STATUS:
		ag = redir_server_agent(index);
		h_redir_set_int(vb, ag ? ag->status : REDIR_AGENT_NONE);
		break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int srv_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_server_get(index, col, vb);
}

/* ---- SET: this table's columns and verbs; redirector.c runs the phases */

enum { CHG_ADMIN = 1u, CHG_CAPACITY = 2u };

struct srv_row {
	struct h_redir_row h; /* first: the shared SET code sees this */
	struct srv_pending work;
	int admin_done, capacity_done;
	int old_admin;
	uint32_t old_capacity;
};

static int srv_load(uint32_t index, struct h_redir_pending *p, int *origin, int *storage)
{
	const struct redir_server *s = redir_server_find(index);
	struct srv_pending *w = (struct srv_pending *)p;

	if (!s)
		return -ENOENT;
	snprintf(w->spec.name, sizeof(w->spec.name), "%s", s->name);
	snprintf(w->spec.host, sizeof(w->spec.host), "%s", s->host);
	w->spec.port = s->port;
	w->spec.capacity = s->capacity;
	w->spec.admin = s->admin;
	w->spec.storage = s->storage;
	w->spec.tgt_control = s->tgt_control;
	w->addr_type = h_redir_host_addr(s->family, s->host, w->addr, &w->addr_len);
	*origin = s->origin;
	*storage = s->storage;
	return 0;
}

static void srv_defaults(struct h_redir_pending *p)
{
	spec_defaults((struct srv_pending *)p);
}

/* RESERVE1 per varbind: syntax, then what it means for its row. */
static int srv_check_column(struct h_redir_row *row, unsigned int col, const netsnmp_variable_list *vb)
{
	struct srv_pending *w = &((struct srv_row *)row)->work;
	int rc;

	switch (col) {
	case H_SRV_NAME: return h_redir_check_name(row, vb, w->spec.name, sizeof(w->spec.name), 0);
	case H_SRV_ADDR_TYPE:
		if ((rc = netsnmp_check_vb_int_range(vb, 0, 16)))
			return rc;
		if (*vb->val.integer != 1 && *vb->val.integer != 2)
			return SNMP_ERR_WRONGVALUE; /* only ipv4(1) and ipv6(2) */
		if (row->kind == H_ROW_ENGINE && *vb->val.integer != w->addr_type)
			row->chg_define = 1;
		w->addr_type = *vb->val.integer;
		break;
	case H_SRV_ADDR:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, 255)))
			return rc;
		if (vb->val_len != 4 && vb->val_len != 16)
			return SNMP_ERR_WRONGLENGTH;
		if (row->kind == H_ROW_ENGINE &&
		    (vb->val_len != w->addr_len || memcmp(vb->val.string, w->addr, vb->val_len) != 0))
			row->chg_define = 1;
		memcpy(w->addr, vb->val.string, vb->val_len);
		w->addr_len = vb->val_len;
		break;
	case H_SRV_PORT:
		if ((rc = h_redir_check_uint(vb, 1, 65535)))
			return rc;
		if (row->kind == H_ROW_ENGINE && (unsigned long)*vb->val.integer != w->spec.port)
			row->chg_define = 1;
		w->spec.port = (uint16_t)*vb->val.integer;
		break;
	case H_SRV_CAPACITY:
		if ((rc = h_redir_check_uint(vb, 1, 1000000)))
			return rc;
		if (row->kind == H_ROW_ENGINE && (unsigned long)*vb->val.integer != w->spec.capacity)
			row->chg |= CHG_CAPACITY;
		w->spec.capacity = (uint32_t)*vb->val.integer;
		break;
	case H_SRV_ADMIN:
		if ((rc = netsnmp_check_vb_int_range(vb, REDIR_ADMIN_UP, REDIR_ADMIN_DOWN)))
			return rc;
		if (row->kind == H_ROW_ENGINE && *vb->val.integer != w->spec.admin)
			row->chg |= CHG_ADMIN;
		w->spec.admin = (int)*vb->val.integer;
		break;
	case H_SRV_TGT_CONTROL:
		if ((rc = netsnmp_check_vb_int_range(vb, -1, 65535)))
			return rc;
		if (row->kind == H_ROW_ENGINE && *vb->val.integer != w->spec.tgt_control)
			row->chg_define = 1;
		w->spec.tgt_control = (int)*vb->val.integer;
		break;
	case H_SRV_STORAGE: return h_redir_check_storage(row, vb, &w->spec.storage);
	case H_SRV_ROW_STATUS: return h_redir_check_rowstatus(row, vb);
	default: return SNMP_ERR_NOTWRITABLE;
	}
	return SNMP_ERR_NOERROR;
}

static int srv_ready(const struct h_redir_pending *p)
{
	return pending_ready((const struct srv_pending *)p);
}

static int srv_validate_update(struct h_redir_row *row)
{
	const struct srv_pending *w = &((struct srv_row *)row)->work;
	int rc;

	if ((row->chg & CHG_CAPACITY) &&
	    (rc = h_redir_validate_err(redir_server_validate_capacity(row->index, w->spec.capacity))))
		return rc;
	if ((row->chg & CHG_ADMIN) &&
	    (rc = h_redir_validate_err(redir_server_validate_admin(row->index, w->spec.admin))))
		return rc;
	return SNMP_ERR_NOERROR;
}

static int srv_validate_create(struct h_redir_row *row)
{
	struct srv_pending *w = &((struct srv_row *)row)->work;
	char host[INET6_ADDRSTRLEN] = "";

	inet_ntop(w->addr_type == 2 ? AF_INET6 : AF_INET, w->addr, host, sizeof(host));
	snprintf(w->spec.host, sizeof(w->spec.host), "%s", host);
	if (!w->spec.name[0])
		snprintf(w->spec.name, sizeof(w->spec.name), "server%u", (unsigned int)w->p.index);
	return redir_server_validate(row->index, &w->spec);
}

static int srv_create(struct h_redir_row *row)
{
	const struct srv_pending *w = &((struct srv_row *)row)->work;
	int rc = redir_server_create(row->index, &w->spec);

	if (rc == 0)
		sa_log(SA_LOG_INFO, "handlers", "redirector server %u (%s) created by SET", (unsigned int)row->index,
		       w->spec.name);
	return rc;
}

static int srv_update(struct h_redir_row *row)
{
	struct srv_row *sr = (struct srv_row *)row;
	const struct redir_server *s;
	int rc;

	if (!(s = redir_server_find(row->index)))
		return -ENOENT;
	sr->old_capacity = s->capacity;
	sr->old_admin = s->admin;
	if (row->chg & CHG_CAPACITY) {
		if ((rc = redir_server_set_capacity(row->index, sr->work.spec.capacity)) < 0)
			return rc;
		sr->capacity_done = 1;
	}
	if (row->chg & CHG_ADMIN) {
		if ((rc = redir_server_set_admin(row->index, sr->work.spec.admin)) < 0)
			return rc;
		sr->admin_done = 1;
	}
	return 0;
}

static int srv_undo_update(struct h_redir_row *row)
{
	struct srv_row *sr = (struct srv_row *)row;
	int rc = 0, r2;

	if (sr->admin_done && (r2 = redir_server_set_admin(row->index, sr->old_admin)) < 0)
		rc = r2;
	if (sr->capacity_done && (r2 = redir_server_set_capacity(row->index, sr->old_capacity)) < 0)
		rc = r2;
	sr->admin_done = sr->capacity_done = 0;
	return rc;
}

static const struct h_redir_rows server_rows = {
    .what = "server",
    .txn_key = "sanRedirServerTable:txn",
    .last_col = H_SRV_AGENT_STATUS,
    .row_size = sizeof(struct srv_row),
    .work_offset = offsetof(struct srv_row, work),
    .pending_size = sizeof(struct srv_pending),
    .pending = &pending,
    .load = srv_load,
    .defaults = srv_defaults,
    .check_column = srv_check_column,
    .ready = srv_ready,
    .validate_update = srv_validate_update,
    .validate_create = srv_validate_create,
    .create = srv_create,
    .update = srv_update,
    .undo_update = srv_undo_update,
    .destroy = redir_server_destroy,
};

static struct h_redir_table server_table = {
    .name = "sanRedirServerTable",
    .root = server_table_oid,
    .root_len = OID_LENGTH(server_table_oid),
    .min_col = H_SRV_NAME,
    .max_col = H_SRV_AGENT_STATUS,
    .writable = 1,
    .readable = srv_readable,
    .next = srv_next,
    .get = srv_get,
    .set = h_redir_rows_set,
    .rows = &server_rows,
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
