/* engineTable.c: sanEngineTable, one row per engine, values read live from the engine registry. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/registry.h"
#include "handlers/handlers.h"
#include "handlers/table.h"
#include "common/log.h"

static const oid engine_table_oid[] = {SA_OID_ENGINE_TABLE};

static const struct h_column engine_cols[] = {
    {H_ENGINE_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_ENGINE_NAME, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ENGINE_ADMIN, H_RW, H_SYN_INT, 0, SA_ADMIN_UP, SA_ADMIN_DOWN},
    {H_ENGINE_OPER, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ENGINE_LAST_ERROR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ENGINE_LAST_CHANGE, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* Rows are the registry's engines, 1..count: every value is read at
 * request time, so a row can never show stale status. */
static int engine_next(const uint32_t *after, uint32_t *out)
{
	int n = sa_engine_count();

	for (int i = after ? (int)after[0] + 1 : 1; i >= 1 && i <= n; i++) {
		const struct sa_engine *e = sa_engine_get(i);

		if (e) {
			out[0] = (uint32_t)e->index;
			return 0;
		}
	}
	return -ENOENT;
}

static int engine_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct sa_engine *e = idx[0] <= INT32_MAX ? sa_engine_get((int)idx[0]) : NULL;
	u_char dt[H_DATE_AND_TIME_LEN];

	if (!e)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_ENGINE_NAME: h_set_str(vb, e->name, 255); break;
	case H_ENGINE_ADMIN: h_set_int(vb, e->admin); break;
	case H_ENGINE_OPER: h_set_int(vb, e->oper); break;
	/* DisplayString is at most 255 octets. */
	case H_ENGINE_LAST_ERROR: h_set_str(vb, e->last_error, 255); break;
	case H_ENGINE_LAST_CHANGE:
		h_date_and_time(e->last_change ? e->last_change : h_agent->start_time(), dt);
		h_set_octets(vb, dt, sizeof(dt));
		break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

struct engine_image {
	int admin;
};

static int engine_load(const uint32_t *idx, void *image)
{
	const struct sa_engine *e = idx[0] <= INT32_MAX ? sa_engine_get((int)idx[0]) : NULL;

	if (!e)
		return -ENOENT; /* rows are the engines; none can be created */
	((struct engine_image *)image)->admin = e->admin;
	return 0;
}

static int engine_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	return col == H_ENGINE_ADMIN ? h_put_int(&((struct engine_image *)image)->admin, vb) : 0;
}

static int engine_check(struct h_row *row, struct h_txn *txn)
{
	(void)txn;
	return sa_engine_validate_admin((int)row->idx[0], ((const struct engine_image *)row->work)->admin);
}

static int engine_action(struct h_row *row, struct h_txn *txn)
{
	int rc = h_agent->set_engine_admin((int)row->idx[0], ((const struct engine_image *)row->work)->admin);

	(void)txn;
	if (rc < 0)
		cm_log(CM_LOG_WARNING, "handlers", "engine %u: admin status SET failed: %s", (unsigned int)row->idx[0],
		       strerror(-rc));
	else
		row->done = 1;
	return rc;
}

static int engine_undo(struct h_row *row)
{
	int rc =
	    row->done ? h_agent->set_engine_admin((int)row->idx[0], ((const struct engine_image *)row->old)->admin) : 0;

	row->done = 0;
	return rc;
}

/* The change is in force since ACTION; only persisting it is left, and a
 * failure there is logged. */
static int engine_commit(struct h_row *row)
{
	int rc = h_agent->commit_state();

	if (rc < 0)
		cm_log(CM_LOG_WARNING, "handlers", "engine %u: admin status not persisted: %s",
		       (unsigned int)row->idx[0], strerror(-rc));
	return rc;
}

static const struct h_table_ops engine_ops = {
    .next = engine_next,
    .get = engine_get,
    .load = engine_load,
    .store = engine_store,
    .check = engine_check,
    .action = engine_action,
    .undo = engine_undo,
    .commit = engine_commit,
};

static struct h_table engine_table = {
    .name = "sanEngineTable",
    .root = engine_table_oid,
    .root_len = OID_LENGTH(engine_table_oid),
    .nindex = 1,
    .cols = engine_cols,
    .ncols = sizeof(engine_cols) / sizeof(engine_cols[0]),
    .image_size = sizeof(struct engine_image),
    .writable = 1,
    .ops = &engine_ops,
};

int h_engine_table_init(void)
{
	return sa_engine_count() < 0 ? -EINVAL : h_table_register(&engine_table);
}

void h_engine_table_shutdown(void)
{
	h_table_unregister(&engine_table);
}
