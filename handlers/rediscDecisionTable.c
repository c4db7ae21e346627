/* rediscDecisionTable.c: sanRediscDecisionTable, the history of rediscovery decisions (read-only, live). */
#include <config.h>

#include <errno.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/handlers.h"
#include "handlers/redisc.h"
#include "handlers/table.h"

static const oid decision_table_oid[] = {REDISC_OID_DECISION_TABLE};

static const struct h_column decision_cols[] = {
    {REDISC_D_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},    {REDISC_D_TIME, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_TRIGGER, H_RO, H_SYN_ANY, 0, 0, 0},  {REDISC_D_SOURCE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_METRIC, H_RO, H_SYN_ANY, 0, 0, 0},   {REDISC_D_VALUE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_TARGET, H_RO, H_SYN_ANY, 0, 0, 0},   {REDISC_D_OLD_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_OLD_ADDR, H_RO, H_SYN_ANY, 0, 0, 0}, {REDISC_D_OLD_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_NEW_TYPE, H_RO, H_SYN_ANY, 0, 0, 0}, {REDISC_D_NEW_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_NEW_PORT, H_RO, H_SYN_ANY, 0, 0, 0}, {REDISC_D_COMPETING, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_OFFENDER, H_RO, H_SYN_ANY, 0, 0, 0}, {REDISC_D_MODE, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_STATE, H_RO, H_SYN_ANY, 0, 0, 0},    {REDISC_D_SESSIONS_ENDED, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_MESSAGES, H_RO, H_SYN_ANY, 0, 0, 0}, {REDISC_D_OUTCOME, H_RO, H_SYN_ANY, 0, 0, 0},
    {REDISC_D_ERROR, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int decision_next(const uint32_t *after, uint32_t *out)
{
	const struct redisc_decision *d = redisc_decision_next(after ? after[0] : 0);

	if (!d)
		return -ENOENT;
	out[0] = d->index;
	return 0;
}

int h_redisc_decision_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redisc_decision *d = redisc_decision_find(index);
	u_char dt[H_DATE_AND_TIME_LEN];

	if (!d)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case REDISC_D_TIME:
		h_date_and_time(d->when, dt);
		h_set_octets(vb, dt, sizeof(dt));
		break;
	case REDISC_D_TRIGGER: h_set_int(vb, d->trigger); break;
	case REDISC_D_SOURCE: h_set_str(vb, d->source, 63); break;
	case REDISC_D_METRIC: h_set_int(vb, d->metric); break;
	case REDISC_D_VALUE: h_set_u32(vb, ASN_UNSIGNED, d->value); break;
	case REDISC_D_TARGET: h_set_str(vb, d->target, 223); break;
	case REDISC_D_OLD_TYPE: h_set_int(vb, d->old_portal.type); break;
	case REDISC_D_OLD_ADDR: h_redisc_set_addr(vb, &d->old_portal); break;
	case REDISC_D_OLD_PORT: h_set_u32(vb, ASN_UNSIGNED, d->old_portal.port); break;
	case REDISC_D_NEW_TYPE: h_set_int(vb, d->new_portal.type); break;
	case REDISC_D_NEW_ADDR: h_redisc_set_addr(vb, &d->new_portal); break;
	case REDISC_D_NEW_PORT: h_set_u32(vb, ASN_UNSIGNED, d->new_portal.port); break;
	case REDISC_D_COMPETING: h_set_str(vb, d->competing, 255); break;
	case REDISC_D_OFFENDER: h_set_str(vb, d->offender, 223); break;
	case REDISC_D_MODE: h_set_int(vb, d->mode); break;
	case REDISC_D_STATE: h_set_int(vb, d->state); break;
	case REDISC_D_SESSIONS_ENDED: h_set_u32(vb, ASN_UNSIGNED, d->sessions_ended); break;
	case REDISC_D_MESSAGES: h_set_str(vb, d->messages, 255); break;
	case REDISC_D_OUTCOME: h_set_str(vb, d->outcome, 255); break;
	case REDISC_D_ERROR: h_set_str(vb, d->error, 255); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int decision_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_redisc_decision_get(idx[0], col, vb);
}

static const struct h_table_ops decision_ops = {.next = decision_next, .get = decision_get};

static struct h_table decision_table = {
    .name = "sanRediscDecisionTable",
    .root = decision_table_oid,
    .root_len = OID_LENGTH(decision_table_oid),
    .nindex = 1,
    .cols = decision_cols,
    .ncols = sizeof(decision_cols) / sizeof(decision_cols[0]),
    .ops = &decision_ops,
};

int h_redisc_decision_table_init(void)
{
	return h_table_register(&decision_table);
}

void h_redisc_decision_table_shutdown(void)
{
	h_table_unregister(&decision_table);
}
