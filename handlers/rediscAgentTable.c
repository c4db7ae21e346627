/* rediscAgentTable.c: sanRediscAgentNextIndex and sanRediscAgentTable, where initiators' messages go (RowStatus). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/handlers.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

static const oid agent_table_oid[] = {REDISC_OID_AGENT_TABLE};
static const oid agent_next_oid[] = {REDISC_OID_AGENT_NEXT};

static const struct h_column agent_cols[] = {
    {REDISC_AC_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {REDISC_AC_INITIATOR, H_RC, H_SYN_ADMIN_STRING, H_COL_NOT_ACTIVE, 1, REDISC_NAME_MAX - 1},
    {REDISC_AC_ADDR_TYPE, H_RC, H_SYN_INT, H_COL_NOT_ACTIVE, 1, 2},
    {REDISC_AC_ADDR, H_RC, H_SYN_INET_ADDR, H_COL_NOT_ACTIVE, 0, 0},
    {REDISC_AC_PORT, H_RC, H_SYN_UINT, H_COL_NOT_ACTIVE, 1, 65535},
    {REDISC_AC_ORIGIN, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_AC_LAST_HEARD, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_AC_MESSAGES, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_AC_STORAGE, H_RC, H_SYN_STORAGE, H_COL_NOT_ACTIVE, 0, 0},
    {REDISC_AC_ROW_STATUS, H_RC, H_SYN_ROWSTATUS, 0, 0, 0},
};

struct agent_image {
	char initiator[REDISC_NAME_MAX];
	struct h_redisc_portal p;
	int storage;
};

static int agent_next(const uint32_t *after, uint32_t *out)
{
	const struct redisc_agent *a = redisc_agent_next(after ? after[0] : 0);

	if (!a)
		return -ENOENT;
	out[0] = a->index;
	return 0;
}

static int agent_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redisc_agent *a = redisc_agent_find(idx[0]);
	u_char dt[H_DATE_AND_TIME_LEN];

	if (!a)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case REDISC_AC_INITIATOR: h_set_str(vb, a->initiator, REDISC_NAME_MAX - 1); break;
	case REDISC_AC_ADDR_TYPE: h_set_int(vb, a->addr.type); break;
	case REDISC_AC_ADDR: h_redisc_set_addr(vb, &a->addr); break;
	case REDISC_AC_PORT: h_set_u32(vb, ASN_UNSIGNED, a->addr.port); break;
	case REDISC_AC_ORIGIN: h_set_int(vb, a->origin); break;
	case REDISC_AC_LAST_HEARD:
		/* All zero: never heard from (DateAndTime has no "none"). */
		memset(dt, 0, sizeof(dt));
		if (a->last_heard)
			h_date_and_time(a->last_heard, dt);
		h_set_octets(vb, dt, a->last_heard ? sizeof(dt) : 8);
		break;
	case REDISC_AC_MESSAGES: h_set_u64(vb, a->messages); break;
	case REDISC_AC_STORAGE: h_set_int(vb, a->storage); break;
	case REDISC_AC_ROW_STATUS: return SNMP_NOSUCHOBJECT; /* an engine row is active */
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int agent_get_work(const void *image, unsigned int col, netsnmp_variable_list *vb)
{
	const struct agent_image *w = image;

	switch (col) {
	case REDISC_AC_INITIATOR: h_set_str(vb, w->initiator, REDISC_NAME_MAX - 1); break;
	case REDISC_AC_ADDR_TYPE: h_set_int(vb, w->p.type); break;
	case REDISC_AC_ADDR: h_set_octets(vb, w->p.addr, w->p.len); break;
	case REDISC_AC_PORT: h_set_u32(vb, ASN_UNSIGNED, w->p.port); break;
	case REDISC_AC_ORIGIN: h_set_int(vb, REDISC_ORIGIN_SNMP); break;
	case REDISC_AC_MESSAGES: h_set_u64(vb, 0); break;
	case REDISC_AC_STORAGE: h_set_int(vb, w->storage); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int agent_load(const uint32_t *idx, void *image)
{
	const struct redisc_agent *a = redisc_agent_find(idx[0]);
	struct agent_image *w = image;

	if (!a)
		return -ENOENT;
	snprintf(w->initiator, sizeof(w->initiator), "%s", a->initiator);
	h_redisc_portal_load(&w->p, &a->addr);
	w->storage = a->storage;
	return 0;
}

static void agent_defaults(void *image, const uint32_t *idx)
{
	struct agent_image *w = image;

	(void)idx;
	w->p.port = 162;
	w->storage = REDISC_ST_NONVOLATILE;
}

static int agent_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	struct agent_image *w = image;

	switch (col) {
	case REDISC_AC_INITIATOR: return h_put_str(w->initiator, sizeof(w->initiator), vb);
	case REDISC_AC_ADDR_TYPE: return h_put_long(&w->p.type, vb);
	case REDISC_AC_ADDR: return h_put_octets(w->p.addr, &w->p.len, sizeof(w->p.addr), vb);
	case REDISC_AC_PORT: return h_put_u32(&w->p.port, vb);
	case REDISC_AC_STORAGE: return h_put_int(&w->storage, vb);
	default: return 0;
	}
}

static int agent_ready(const void *image)
{
	const struct agent_image *w = image;

	return w->initiator[0] && h_redisc_portal_ready(&w->p);
}

static int agent_check(struct h_row *row, struct h_txn *txn)
{
	const struct agent_image *w = row->work;
	struct redisc_addr a;

	(void)txn;
	if (row->op == H_OP_DESTROY)
		return redisc_agent_destroy_check(row->idx[0]);
	if (row->op != H_OP_CREATE)
		return 0; /* nothing of an active row changes but through destroy */
	h_redisc_portal_to_addr(&w->p, &a);
	return redisc_agent_validate(row->idx[0], w->initiator, &a, w->storage);
}

static int agent_action(struct h_row *row, struct h_txn *txn)
{
	const struct agent_image *w = row->work;
	struct redisc_addr a;
	int rc;

	(void)txn;
	if (row->op != H_OP_CREATE)
		return 0;
	h_redisc_portal_to_addr(&w->p, &a);
	if ((rc = redisc_agent_create(row->idx[0], w->initiator, &a, w->storage)) == 0)
		row->done = 1;
	return rc;
}

static int agent_undo(struct h_row *row)
{
	int rc = row->done ? redisc_agent_destroy(row->idx[0]) : 0;

	row->done = 0;
	return rc;
}

static int agent_commit(struct h_row *row)
{
	return row->op == H_OP_DESTROY ? redisc_agent_destroy(row->idx[0]) : 0;
}

static const struct h_table_ops agent_ops = {
    .next = agent_next,
    .get = agent_get,
    .get_work = agent_get_work,
    .load = agent_load,
    .defaults = agent_defaults,
    .store = agent_store,
    .ready = agent_ready,
    .check = agent_check,
    .action = agent_action,
    .undo = agent_undo,
    .commit = agent_commit,
};

static struct h_table agent_table = {
    .name = "sanRediscAgentTable",
    .root = agent_table_oid,
    .root_len = OID_LENGTH(agent_table_oid),
    .nindex = 1,
    .index_min = 1,
    .cols = agent_cols,
    .ncols = sizeof(agent_cols) / sizeof(agent_cols[0]),
    .rowstatus_col = REDISC_AC_ROW_STATUS,
    .storage_col = REDISC_AC_STORAGE,
    .image_size = sizeof(struct agent_image),
    .writable = 1,
    .ops = &agent_ops,
};

static struct h_next_index next_index = {
    .name = "sanRediscAgentNextIndex",
    .root = agent_next_oid,
    .root_len = OID_LENGTH(agent_next_oid),
    .value = redisc_agent_next_index,
    .table = &agent_table,
};

int h_redisc_agent_table_init(void)
{
	int rc;

	if ((rc = h_next_index_register(&next_index)) < 0)
		return rc;
	return h_table_register(&agent_table);
}

void h_redisc_agent_table_shutdown(void)
{
	h_table_unregister(&agent_table);
	h_next_index_unregister(&next_index);
}
