/* rediscThresholdTable.c: sanRediscThresholdTable, one threshold and direction per session metric (read-write). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

static const oid threshold_table_oid[] = {REDISC_OID_THRESHOLD_TABLE};

static const struct h_column threshold_cols[] = {
    {REDISC_TH_METRIC, H_NA, H_SYN_ANY, 0, 0, 0},
    {REDISC_TH_VALUE, H_RW, H_SYN_UINT, 0, 0, 4294967295L},
    {REDISC_TH_DIRECTION, H_RW, H_SYN_INT, 0, REDISC_ABOVE, REDISC_BELOW},
    {REDISC_TH_ENABLED, H_RW, H_SYN_TRUTH, 0, 0, 0},
    {REDISC_TH_OUTSIDE, H_RO, H_SYN_ANY, 0, 0, 0},
};

/* The rows are the metrics, there while the engine runs. */
static int threshold_next(const uint32_t *after, uint32_t *out)
{
	uint32_t i = after ? after[0] + 1 : 1;

	if (!redisc_policy() || i < 1 || i > REDISC_NMETRICS)
		return -ENOENT;
	out[0] = i;
	return 0;
}

static int threshold_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redisc_policy *p = redisc_policy();
	const struct redisc_threshold *t;

	if (!p || idx[0] < 1 || idx[0] > REDISC_NMETRICS)
		return SNMP_NOSUCHINSTANCE;
	t = &p->th[idx[0] - 1];
	switch (col) {
	case REDISC_TH_VALUE: h_set_u32(vb, ASN_UNSIGNED, t->value); break;
	case REDISC_TH_DIRECTION: h_set_int(vb, t->dir); break;
	case REDISC_TH_ENABLED: h_set_int(vb, t->enabled ? 1 : 2); break;
	case REDISC_TH_OUTSIDE: h_set_u32(vb, ASN_GAUGE, redisc_outside_count((int)idx[0])); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* The image is the whole policy, so rows of one request check and apply together. */
static int threshold_load(const uint32_t *idx, void *work)
{
	const struct redisc_policy *p = redisc_policy();

	if (!p || idx[0] < 1 || idx[0] > REDISC_NMETRICS)
		return -ENOENT;
	*(struct redisc_threshold *)work = p->th[idx[0] - 1];
	return 0;
}

static int threshold_store(void *work, unsigned int col, const netsnmp_variable_list *vb)
{
	struct redisc_threshold *t = work;

	switch (col) {
	case REDISC_TH_VALUE: return h_put_u32(&t->value, vb);
	case REDISC_TH_DIRECTION: return h_put_int(&t->dir, vb);
	case REDISC_TH_ENABLED: return h_put_bool(&t->enabled, vb);
	default: return 0;
	}
}

static int threshold_apply(const uint32_t *idx, const struct redisc_threshold *t, int check_only)
{
	const struct redisc_policy *cur = redisc_policy();
	struct redisc_policy p;

	if (!cur)
		return -ENODEV;
	p = *cur;
	p.th[idx[0] - 1] = *t;
	return check_only ? redisc_policy_check(&p) : redisc_policy_set(&p);
}

static int threshold_check(struct h_row *row, struct h_txn *txn)
{
	(void)txn;
	return threshold_apply(row->idx, row->work, 1);
}

static int threshold_action(struct h_row *row, struct h_txn *txn)
{
	int rc = threshold_apply(row->idx, row->work, 0);

	(void)txn;
	row->done = rc == 0;
	return rc;
}

static int threshold_undo(struct h_row *row)
{
	int rc = row->done ? threshold_apply(row->idx, row->old, 0) : 0;

	row->done = 0;
	return rc;
}

static const struct h_table_ops threshold_ops = {
    .next = threshold_next,
    .get = threshold_get,
    .load = threshold_load,
    .store = threshold_store,
    .check = threshold_check,
    .action = threshold_action,
    .undo = threshold_undo,
};

static struct h_table threshold_table = {
    .name = "sanRediscThresholdTable",
    .root = threshold_table_oid,
    .root_len = OID_LENGTH(threshold_table_oid),
    .nindex = 1,
    .cols = threshold_cols,
    .ncols = sizeof(threshold_cols) / sizeof(threshold_cols[0]),
    .image_size = sizeof(struct redisc_threshold),
    .writable = 1,
    .ops = &threshold_ops,
};

int h_redisc_threshold_table_init(void)
{
	return h_table_register(&threshold_table);
}

void h_redisc_threshold_table_shutdown(void)
{
	h_table_unregister(&threshold_table);
}
