/* storPortalTable.c: sanStorPortalNextIndex and sanStorPortalTable, tgt's portals; RowStatus SETs change tgt. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "handlers/redirTables.h"
#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid portal_table_oid[] = {SA_OID_STOR_PORTAL_TABLE};
static const oid portal_next_oid[] = {SA_OID_STOR_PORTAL_NEXT};

static const struct h_column portal_cols[] = {
    {H_SPOR_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_SPOR_ADDR_TYPE, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, 1, 2}, /* tgt listens on ipv4(1) and ipv6(2) */
    {H_SPOR_ADDR, H_RC, H_SYN_INET_ADDR, H_COL_NOT_ACTIVE, 0, 0},
    {H_SPOR_PORT, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 1, 65535},
    {H_SPOR_TPGT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SPOR_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {H_SPOR_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
    {H_SPOR_IFNAME, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 0, STOR_IFNAME_MAX - 1},
};

struct por_image {
	long addr_type;
	u_char addr[16];
	size_t addr_len;
	uint32_t port;
	int storage;
	char host[INET6_ADDRSTRLEN];
	char ifname[STOR_IFNAME_MAX];
};

static int por_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_portal *p = stor_portal_next(after ? after[0] : 0);

	if (!p)
		return -ENOENT;
	out[0] = p->index;
	return 0;
}

static int por_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_portal *p = stor_portal_find(idx[0]);

	if (!p)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_SPOR_ADDR_TYPE: h_stor_set_addr(vb, p->host, 1); break;
	case H_SPOR_ADDR: h_stor_set_addr(vb, p->host, 0); break;
	case H_SPOR_PORT: h_set_u32(vb, ASN_UNSIGNED, p->port); break;
	case H_SPOR_TPGT: h_set_u32(vb, ASN_UNSIGNED, p->tpgt); break;
	case H_SPOR_STORAGE: h_set_int(vb, p->storage); break;
	case H_SPOR_IFNAME: h_set_str(vb, p->ifname, STOR_IFNAME_MAX - 1); break;
	/* Not yet (or no longer) listed by tgt: the agent is (re)applying it. */
	case H_SPOR_ROW_STATUS: h_set_int(vb, p->active ? RS_ACTIVE : RS_NOTINSERVICE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int por_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct por_image *w = image;

	switch (col) {
	case H_SPOR_ADDR_TYPE: h_set_int(vb, w->addr_type); break;
	case H_SPOR_ADDR: h_set_octets(vb, w->addr, w->addr_len); break;
	case H_SPOR_PORT: h_set_u32(vb, ASN_UNSIGNED, w->port); break;
	case H_SPOR_TPGT: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	case H_SPOR_STORAGE: h_set_int(vb, w->storage); break;
	case H_SPOR_IFNAME: h_set_str(vb, w->ifname, STOR_IFNAME_MAX - 1); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int por_load(const uint32_t *idx, void *image)
{
	const struct stor_portal *p = stor_portal_find(idx[0]);
	struct por_image *w = image;

	if (!p)
		return -ENOENT;
	w->addr_type = h_redir_host_addr(0, p->host, w->addr, &w->addr_len);
	w->port = p->port;
	w->storage = p->storage;
	snprintf(w->ifname, sizeof(w->ifname), "%s", p->ifname);
	return 0;
}

static void por_defaults(void *image, const uint32_t *idx)
{
	struct por_image *w = image;

	(void)idx;
	w->port = 3260;
	w->storage = STOR_ST_NONVOLATILE;
}

static int por_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct por_image *w = image;

	switch (col) {
	case H_SPOR_ADDR_TYPE: return h_put_long(&w->addr_type, vb);
	case H_SPOR_ADDR: return h_put_octets(w->addr, &w->addr_len, sizeof(w->addr), vb);
	case H_SPOR_PORT: return h_put_u32(&w->port, vb);
	case H_SPOR_STORAGE: return h_put_int(&w->storage, vb);
	case H_SPOR_IFNAME: return h_put_str(w->ifname, sizeof(w->ifname), vb);
	default: return 0;
	}
}

static int por_ready(const void *image)
{
	const struct por_image *w = image;

	return (w->addr_type == 1 && w->addr_len == 4) || (w->addr_type == 2 && w->addr_len == 16);
}

static int por_check(struct h_row *row, struct h_txn *txn)
{
	struct por_image *w = row->work;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0; /* every row may be destroyed, tgt's own ones included: that is the point */
	if (!inet_ntop(w->addr_type == 2 ? AF_INET6 : AF_INET, w->addr, w->host, sizeof(w->host)))
		return -EINVAL;
	return stor_portal_validate(row->idx[0], w->host, (uint16_t)w->port, w->storage, w->ifname);
}

static int por_action(struct h_row *row, struct h_txn *txn)
{
	const struct por_image *w = row->work;
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0; /* nothing of an active row changes but through destroy */
	if ((rc = stor_portal_create(row->idx[0], w->host, (uint16_t)w->port, w->storage, w->ifname)) == 0)
		row->done = 1;
	return rc;
}

static int por_undo(struct h_row *row)
{
	int rc = row->done ? stor_portal_destroy(row->idx[0]) : 0;

	row->done = 0;
	return rc;
}

static int por_commit(struct h_row *row)
{
	if (row->op != H_OP_DESTROY)
		return 0;
	return stor_portal_destroy(row->idx[0]);
}

static const struct h_table_ops portal_ops = {
    .next = por_next,
    .get = por_get,
    .get_work = por_get_work,
    .load = por_load,
    .defaults = por_defaults,
    .store = por_store,
    .ready = por_ready,
    .check = por_check,
    .action = por_action,
    .undo = por_undo,
    .commit = por_commit,
};

static struct h_table portal_table = {
    .name = "sanStorPortalTable",
    .root = portal_table_oid,
    .root_len = OID_LENGTH(portal_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = portal_cols,
    .ncols = sizeof(portal_cols) / sizeof(portal_cols[0]),
    .rowstatus_col = H_SPOR_ROW_STATUS,
    .storage_col = H_SPOR_STORAGE,
    .image_size = sizeof(struct por_image),
    .writable = 1,
    .ops = &portal_ops,
};

/* ---- sanStorPortalNextIndex ------------------------------------------------------------------------------- */

static uint32_t portal_next_index(void)
{
	uint32_t v = stor_portal_next_index();

	/* Skip the indexes that rows not active yet hold, and tgt's own portals
	 * (they take indexes the engine did not hand out): both, in one loop. */
	while (h_table_pending_has(&portal_table, &v) || stor_portal_find(v))
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
	return h_table_register(&portal_table);
}

void h_stor_portal_table_shutdown(void)
{
	h_table_unregister(&portal_table);
	h_next_index_unregister(&next_index);
}
