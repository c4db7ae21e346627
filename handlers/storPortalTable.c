/* storPortalTable.c: sanStorPortalNextIndex and sanStorPortalTable, tgt's portals; RowStatus SETs change tgt. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "handlers/redir.h"
#include "handlers/rowCommon.h"
#include "handlers/stor.h"
#include "common/log.h"

static const oid portal_table_oid[] = {SA_OID_STOR_PORTAL_TABLE};
static const oid portal_next_oid[] = {SA_OID_STOR_PORTAL_NEXT};

/* A createAndWait row: what the SETs so far asked for. */
struct por_pending {
	struct h_redir_pending p; /* first: the shared list code sees this */
	long addr_type;
	u_char addr[16];
	size_t addr_len;
	uint32_t port;
	int storage;
	char host[INET6_ADDRSTRLEN];
};

static struct h_redir_pending *pending;

static int por_readable(unsigned int col)
{
	return col >= H_SPOR_ADDR_TYPE && col <= H_SPOR_ROW_STATUS;
}

static uint32_t por_next(uint32_t after)
{
	const struct stor_portal *p = stor_portal_next(after);

	return h_redir_pending_merge(pending, p ? p->index : 0, after);
}

static int pending_get(const struct por_pending *w, unsigned int col, netsnmp_variable_list *vb)
{
	switch (col) {
	case H_SPOR_ADDR_TYPE: h_redir_set_int(vb, w->addr_type); break;
	case H_SPOR_ADDR: snmp_set_var_typed_value(vb, ASN_OCTET_STR, w->addr, w->addr_len); break;
	case H_SPOR_PORT: h_redir_set_u32(vb, ASN_UNSIGNED, w->port); break;
	case H_SPOR_TPGT: h_redir_set_u32(vb, ASN_UNSIGNED, 0); break;
	case H_SPOR_STORAGE: h_redir_set_int(vb, w->storage); break;
	case H_SPOR_ROW_STATUS: h_redir_set_int(vb, w->p.status); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int por_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_portal *p = stor_portal_find(index);
	struct por_pending *w;

	if (!p) {
		w = (struct por_pending *)h_redir_pending_find(pending, index);
		if (!w)
			return SNMP_NOSUCHINSTANCE;
		return pending_get(w, col, vb);
	}
	switch (col) {
	case H_SPOR_ADDR_TYPE: h_stor_set_addr(vb, p->host, 1); break;
	case H_SPOR_ADDR: h_stor_set_addr(vb, p->host, 0); break;
	case H_SPOR_PORT: h_redir_set_u32(vb, ASN_UNSIGNED, p->port); break;
	case H_SPOR_TPGT: h_redir_set_u32(vb, ASN_UNSIGNED, p->tpgt); break;
	case H_SPOR_STORAGE: h_redir_set_int(vb, p->storage); break;
	/* Not yet (or no longer) listed by tgt: the agent is (re)applying it. */
	case H_SPOR_ROW_STATUS: h_redir_set_int(vb, p->active ? RS_ACTIVE : RS_NOTINSERVICE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* ---- SET: this table's columns and verbs; redirector.c runs the phases ---- */

struct por_row {
	struct h_redir_row h; /* first: the shared SET code sees this */
	struct por_pending work;
};

static int por_load(uint32_t index, struct h_redir_pending *pw, int *origin, int *storage)
{
	const struct stor_portal *p = stor_portal_find(index);
	struct por_pending *w = (struct por_pending *)pw;

	if (!p)
		return -ENOENT;
	w->addr_type = h_redir_host_addr(0, p->host, w->addr, &w->addr_len);
	w->port = p->port;
	w->storage = p->storage;
	/* Every row may be destroyed, tgt's own ones included: that is the point. */
	*origin = REDIR_ORIGIN_SNMP;
	*storage = p->storage;
	return 0;
}

static void por_defaults(struct h_redir_pending *pw)
{
	struct por_pending *w = (struct por_pending *)pw;

	w->port = 3260;
	w->storage = STOR_ST_NONVOLATILE;
}

static int por_check_column(struct h_redir_row *row, unsigned int col, const netsnmp_variable_list *vb)
{
	struct por_pending *w = &((struct por_row *)row)->work;
	int rc;

	switch (col) {
	case H_SPOR_ADDR_TYPE:
		if ((rc = netsnmp_check_vb_int_range(vb, 0, 16)))
			return rc;
		if (*vb->val.integer != 1 && *vb->val.integer != 2)
			return SNMP_ERR_WRONGVALUE; /* tgt listens on ipv4(1) and ipv6(2) addresses */
		if (row->kind == H_ROW_ENGINE && *vb->val.integer != w->addr_type)
			row->chg_define = 1;
		w->addr_type = *vb->val.integer;
		break;
	case H_SPOR_ADDR:
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
	case H_SPOR_PORT:
		if ((rc = h_redir_check_uint(vb, 1, 65535)))
			return rc;
		if (row->kind == H_ROW_ENGINE && (unsigned long)*vb->val.integer != w->port)
			row->chg_define = 1;
		w->port = (uint32_t)*vb->val.integer;
		break;
	case H_SPOR_STORAGE: return h_redir_check_storage(row, vb, &w->storage);
	case H_SPOR_ROW_STATUS: return h_redir_check_rowstatus(row, vb);
	default: return SNMP_ERR_NOTWRITABLE;
	}
	return SNMP_ERR_NOERROR;
}

static int por_ready(const struct h_redir_pending *pw)
{
	const struct por_pending *w = (const struct por_pending *)pw;

	return (w->addr_type == 1 && w->addr_len == 4) || (w->addr_type == 2 && w->addr_len == 16);
}

static int por_validate_update(struct h_redir_row *row)
{
	(void)row;
	return SNMP_ERR_NOERROR; /* nothing of an active row changes but through destroy */
}

static int por_validate_create(struct h_redir_row *row)
{
	struct por_pending *w = &((struct por_row *)row)->work;

	if (!inet_ntop(w->addr_type == 2 ? AF_INET6 : AF_INET, w->addr, w->host, sizeof(w->host)))
		return -EINVAL;
	return stor_portal_validate(row->index, w->host, (uint16_t)w->port, w->storage);
}

static int por_create(struct h_redir_row *row)
{
	const struct por_pending *w = &((struct por_row *)row)->work;

	return stor_portal_create(row->index, w->host, (uint16_t)w->port, w->storage);
}

static int por_update(struct h_redir_row *row)
{
	(void)row;
	return 0;
}

static int por_undo_update(struct h_redir_row *row)
{
	(void)row;
	return 0;
}

static const struct h_redir_rows portal_rows = {
    .what = "storage portal",
    .txn_key = "sanStorPortalTable:txn",
    .last_col = H_SPOR_ROW_STATUS,
    .row_size = sizeof(struct por_row),
    .work_offset = offsetof(struct por_row, work),
    .pending_size = sizeof(struct por_pending),
    .pending = &pending,
    .load = por_load,
    .defaults = por_defaults,
    .check_column = por_check_column,
    .ready = por_ready,
    .validate_update = por_validate_update,
    .validate_create = por_validate_create,
    .create = por_create,
    .update = por_update,
    .undo_update = por_undo_update,
    .destroy = stor_portal_destroy,
};

static struct h_redir_table portal_table = {
    .name = "sanStorPortalTable",
    .root = portal_table_oid,
    .root_len = OID_LENGTH(portal_table_oid),
    .min_col = H_SPOR_ADDR_TYPE,
    .max_col = H_SPOR_ROW_STATUS,
    .writable = 1,
    .readable = por_readable,
    .next = por_next,
    .get = por_get,
    .set = h_redir_rows_set,
    .rows = &portal_rows,
};

/* ---- sanStorPortalNextIndex ---------------------------------------------- */

static uint32_t portal_next_index(void)
{
	uint32_t v = stor_portal_next_index();

	/* Skip the indexes that createAndWait rows hold. */
	while (h_redir_pending_find(pending, v) || stor_portal_find(v))
		v++;
	return v;
}

static struct h_next_index next_index = {
    .name = "sanStorPortalNextIndex",
    .root = portal_next_oid,
    .root_len = OID_LENGTH(portal_next_oid),
    .value = portal_next_index,
};

int h_stor_portal_table_init(void)
{
	int rc;

	if ((rc = h_next_index_register(&next_index)) < 0)
		return rc;
	return h_redir_table_register(&portal_table);
}

void h_stor_portal_table_shutdown(void)
{
	h_redir_table_unregister(&portal_table);
	h_redir_pending_free_all(&pending);
	h_next_index_unregister(&next_index);
}
