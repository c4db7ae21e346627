/* redirServerTable.c: sanRedirServerTable, the redirector's storage servers, read live from the engine; RowStatus SETs.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "handlers/redirTables.h"
#include "handlers/table.h"

static const oid server_table_oid[] = {SA_OID_REDIR_SERVER_TABLE};

static const struct h_column server_cols[] = {
    {H_SRV_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_SRV_NAME, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 0, 63},
    {H_SRV_ADDR_TYPE, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, 1, 2}, /* ipv4(1) and ipv6(2) only */
    {H_SRV_ADDR, H_RC, H_SYN_INET_ADDR, H_COL_NOT_ACTIVE, 0, 0},
    {H_SRV_PORT, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 1, 65535},
    {H_SRV_CAPACITY, H_RC, H_SYN_UINT, 0, 1, 1000000},
    {H_SRV_ADMIN, H_RC, H_SYN_INT, 0, REDIR_ADMIN_UP, REDIR_ADMIN_SPARE},
    {H_SRV_OPER, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_LOAD, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_RESOURCES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_LAST_CHANGE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_LAST_ERROR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_PROBES_OK, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_PROBES_FAILED, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_TGT_CONTROL, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, -1, 65535},
    {H_SRV_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_SRV_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
    {H_SRV_AGENT, H_RO, H_SYN_ANY, 0, 0, 0}, /* agents come from the config file only */
    {H_SRV_AGENT_STATUS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_SPARE_FOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_CPU_LOAD, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_MEMORY_USED, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SRV_HOST_LOAD, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* The row image: what a SET may give a server. */
struct srv_image {
	struct redir_server_spec spec;
	long addr_type;
	u_char addr[16];
	size_t addr_len;
	time_t created;
};

/* ---- GET ---------------------------------------------------------------------------------------------- */

static int srv_next(const uint32_t *after, uint32_t *out)
{
	const struct redir_server *s = redir_server_next(after ? after[0] : 0);

	if (!s)
		return -ENOENT;
	out[0] = s->index;
	return 0;
}

int h_redir_server_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_server *s = redir_server_find(index);
	const struct redir_agent_info *ag;
	u_char addr[16];
	size_t len;
	int type;

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SRV_NAME: h_set_str(vb, s->name, sizeof(s->name)); break;
	case H_SRV_ADDR_TYPE: h_set_int(vb, h_redir_host_addr(s->family, s->host, addr, &len)); break;
	case H_SRV_ADDR:
		type = h_redir_host_addr(s->family, s->host, addr, &len);
		h_set_octets(vb, addr, type ? len : 0);
		break;
	case H_SRV_PORT: h_set_u32(vb, ASN_UNSIGNED, s->port); break;
	case H_SRV_CAPACITY: h_set_u32(vb, ASN_UNSIGNED, s->capacity); break;
	case H_SRV_ADMIN: h_set_int(vb, s->admin); break;
	case H_SRV_OPER: h_set_int(vb, s->oper); break;
	case H_SRV_LOAD: h_set_u64(vb, s->load); break;
	case H_SRV_RESOURCES: h_set_u32(vb, ASN_GAUGE, s->nresources); break;
	case H_SRV_LAST_CHANGE: h_redir_set_time(vb, s->last_change); break;
	case H_SRV_LAST_ERROR: h_set_str(vb, s->last_error, 255); break;
	case H_SRV_PROBES_OK: h_set_u64(vb, s->probes_ok); break;
	case H_SRV_PROBES_FAILED: h_set_u64(vb, s->probes_failed); break;
	case H_SRV_TGT_CONTROL: h_set_int(vb, s->tgt_control); break;
	case H_SRV_STORAGE: h_set_int(vb, s->storage); break;
	case H_SRV_ROW_STATUS: h_set_int(vb, RS_ACTIVE); break;
	case H_SRV_AGENT:
		ag = redir_server_agent(index);
		h_set_str(vb, ag ? ag->peer : "", ag ? sizeof(ag->peer) : 0);
		break;
	case H_SRV_AGENT_STATUS:
		ag = redir_server_agent(index);
		h_set_int(vb, ag ? ag->status : REDIR_AGENT_NONE);
		break;
	case H_SRV_SPARE_FOR: h_set_u32(vb, ASN_UNSIGNED, s->spare_for); break;
	case H_SRV_CPU_LOAD: h_set_int(vb, s->cpu_pct); break;
	case H_SRV_MEMORY_USED: h_set_int(vb, s->mem_pct); break;
	case H_SRV_HOST_LOAD: h_set_u64(vb, s->host_load); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int srv_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redir_server_get(idx[0], col, vb);
}

static int srv_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct srv_image *w = image;

	switch (col) {
	case H_SRV_NAME: h_set_str(vb, w->spec.name, sizeof(w->spec.name)); break;
	case H_SRV_ADDR_TYPE: h_set_int(vb, w->addr_type); break;
	case H_SRV_ADDR: h_set_octets(vb, w->addr, w->addr_len); break;
	case H_SRV_PORT: h_set_u32(vb, ASN_UNSIGNED, w->spec.port); break;
	case H_SRV_CAPACITY: h_set_u32(vb, ASN_UNSIGNED, w->spec.capacity); break;
	case H_SRV_ADMIN: h_set_int(vb, w->spec.admin); break;
	case H_SRV_OPER: h_set_int(vb, REDIR_OPER_UNKNOWN); break;
	case H_SRV_LOAD: h_set_u64(vb, 0); break;
	case H_SRV_RESOURCES: h_set_u32(vb, ASN_GAUGE, 0); break;
	case H_SRV_LAST_CHANGE: h_redir_set_time(vb, w->created); break;
	case H_SRV_LAST_ERROR: h_set_str(vb, "", 0); break;
	case H_SRV_PROBES_OK:
	case H_SRV_PROBES_FAILED: h_set_u64(vb, 0); break;
	case H_SRV_TGT_CONTROL: h_set_int(vb, w->spec.tgt_control); break;
	case H_SRV_STORAGE: h_set_int(vb, w->spec.storage); break;
	case H_SRV_AGENT: h_set_str(vb, "", 0); break;
	case H_SRV_AGENT_STATUS: h_set_int(vb, REDIR_AGENT_NONE); break;
	case H_SRV_SPARE_FOR: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	case H_SRV_CPU_LOAD:
	case H_SRV_MEMORY_USED: h_set_int(vb, -1); break;
	case H_SRV_HOST_LOAD: h_set_u64(vb, 0); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* ---- SET ---------------------------------------------------------------------------------------------- */

static int srv_load(const uint32_t *idx, void *image)
{
	const struct redir_server *s = redir_server_find(idx[0]);
	struct srv_image *w = image;

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
	return 0;
}

static void srv_defaults(void *image, const uint32_t *idx)
{
	struct srv_image *w = image;

	(void)idx;
	w->spec.port = 3260;
	w->spec.capacity = 1;
	w->spec.admin = REDIR_ADMIN_UP;
	w->spec.storage = REDIR_ST_NONVOLATILE;
	w->spec.tgt_control = -1;
	w->created = time(NULL);
}

static int srv_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct srv_image *w = image;

	switch (col) {
	case H_SRV_NAME: return h_put_str(w->spec.name, sizeof(w->spec.name), vb);
	case H_SRV_ADDR_TYPE: return h_put_long(&w->addr_type, vb);
	case H_SRV_ADDR: return h_put_octets(w->addr, &w->addr_len, sizeof(w->addr), vb);
	case H_SRV_PORT: return h_put_u16(&w->spec.port, vb);
	case H_SRV_CAPACITY: return h_put_u32(&w->spec.capacity, vb);
	case H_SRV_ADMIN: return h_put_int(&w->spec.admin, vb);
	case H_SRV_TGT_CONTROL: return h_put_int(&w->spec.tgt_control, vb);
	case H_SRV_STORAGE: return h_put_int(&w->spec.storage, vb);
	default: return 0;
	}
}

static int srv_ready(const void *image)
{
	const struct srv_image *w = image;

	return (w->addr_type == 1 && w->addr_len == 4) || (w->addr_type == 2 && w->addr_len == 16);
}

/* The spec's host and default name, from the columns. */
static void srv_spec(const uint32_t *idx, struct srv_image *w)
{
	char host[INET6_ADDRSTRLEN] = "";

	inet_ntop(w->addr_type == 2 ? AF_INET6 : AF_INET, w->addr, host, sizeof(host));
	snprintf(w->spec.host, sizeof(w->spec.host), "%s", host);
	if (!w->spec.name[0])
		snprintf(w->spec.name, sizeof(w->spec.name), "server%u", (unsigned int)idx[0]);
}

static int srv_check(struct h_row *row, struct h_txn *txn)
{
	struct srv_image *w = row->work;
	int rc;

	(void)txn;
	switch (row->op) {
	case H_OP_CREATE: srv_spec(row->idx, w); return redir_server_validate(row->idx[0], &w->spec);
	case H_OP_UPDATE:
		if (h_row_changed(row, H_SRV_CAPACITY) &&
		    (rc = redir_server_validate_capacity(row->idx[0], w->spec.capacity)) < 0)
			return rc;
		if (h_row_changed(row, H_SRV_ADMIN) &&
		    (rc = redir_server_validate_admin(row->idx[0], w->spec.admin)) < 0)
			return rc;
		return 0;
	case H_OP_DESTROY: return redir_server_validate_destroy(row->idx[0]);
	default: return 0;
	}
}

enum { DONE_CREATE = 1u, DONE_CAPACITY = 2u, DONE_ADMIN = 4u };

static int srv_action(struct h_row *row, struct h_txn *txn)
{
	const struct srv_image *w = row->work;
	int rc;

	(void)txn;
	if (row->op == H_OP_CREATE) {
		if ((rc = redir_server_create(row->idx[0], &w->spec)) < 0)
			return rc;
		row->done |= DONE_CREATE;
		cm_log(CM_LOG_INFO, "handlers", "redirector server %u (%s) created by SET", (unsigned int)row->idx[0],
		       w->spec.name);
		return 0;
	}
	if (h_row_changed(row, H_SRV_CAPACITY)) {
		if ((rc = redir_server_set_capacity(row->idx[0], w->spec.capacity)) < 0)
			return rc;
		row->done |= DONE_CAPACITY;
	}
	if (h_row_changed(row, H_SRV_ADMIN)) {
		if ((rc = redir_server_set_admin(row->idx[0], w->spec.admin)) < 0)
			return rc;
		row->done |= DONE_ADMIN;
	}
	return 0;
}

static int srv_undo(struct h_row *row)
{
	const struct srv_image *old = row->old;
	int rc = 0, r2;

	if ((row->done & DONE_CREATE) && (r2 = redir_server_destroy(row->idx[0])) < 0)
		rc = r2;
	if ((row->done & DONE_ADMIN) && (r2 = redir_server_set_admin(row->idx[0], old->spec.admin)) < 0)
		rc = r2;
	if ((row->done & DONE_CAPACITY) && (r2 = redir_server_set_capacity(row->idx[0], old->spec.capacity)) < 0)
		rc = r2;
	row->done = 0;
	return rc;
}

static int srv_commit(struct h_row *row)
{
	if (row->op != H_OP_DESTROY)
		return 0;
	int rc = redir_server_destroy(row->idx[0]);

	if (rc == 0)
		cm_log(CM_LOG_INFO, "handlers", "redirector server %u destroyed by SET", (unsigned int)row->idx[0]);
	return rc;
}

static const struct h_table_ops server_ops = {
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

struct h_table h_redir_server_table = {
    .name = "sanRedirServerTable",
    .root = server_table_oid,
    .root_len = OID_LENGTH(server_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = server_cols,
    .ncols = sizeof(server_cols) / sizeof(server_cols[0]),
    .rowstatus_col = H_SRV_ROW_STATUS,
    .storage_col = H_SRV_STORAGE,
    .rank = 0, /* servers before the resources mapped to them */
    .image_size = sizeof(struct srv_image),
    .writable = 1,
    .ops = &server_ops,
};

int h_redir_server_table_init(void)
{
	return h_table_register(&h_redir_server_table);
}

void h_redir_server_table_shutdown(void)
{
	h_table_unregister(&h_redir_server_table);
}
