/* discTargetTable.c: discovery counters, sanDiscSourceTable and sanDiscTargetTable, read live from the engine. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "engines/registry.h"
#include "handlers/discTables.h"
#include "handlers/redirTables.h"
#include "handlers/scalars.h"
#include "handlers/table.h"
#include "common/bus.h"
#include "common/log.h"

static const oid target_table_oid[] = {SA_OID_DISC_TARGET_TABLE};
static const oid counters_oid[] = {SA_OID_DISC_COUNTERS};

static const struct h_column target_cols[] = {
    {H_DTGT_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},     {H_DTGT_NAME, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DTGT_MECHANISM, H_RO, H_SYN_ANY, 0, 0, 0}, {H_DTGT_SOURCE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DTGT_PORTALS, H_RO, H_SYN_ANY, 0, 0, 0},   {H_DTGT_FIRST_SEEN, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_DTGT_LAST_SEEN, H_RO, H_SYN_ANY, 0, 0, 0}, {H_DTGT_ALIAS, H_RO, H_SYN_ANY, 0, 0, 0},
};

int h_disc_target_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb)
{
	const struct disc_target *t = disc_target_find(index);

	if (!t)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_DTGT_NAME: h_set_str(vb, t->name, sizeof(t->name)); break;
	case H_DTGT_MECHANISM: h_set_int(vb, t->mechanism); break;
	case H_DTGT_SOURCE: h_set_u32(vb, ASN_UNSIGNED, t->source); break;
	case H_DTGT_PORTALS: h_set_u32(vb, ASN_GAUGE, (uint32_t)t->nportals); break;
	case H_DTGT_FIRST_SEEN: h_redir_set_time(vb, t->first_seen); break;
	case H_DTGT_LAST_SEEN: h_redir_set_time(vb, t->last_seen); break;
	case H_DTGT_ALIAS: h_set_str(vb, t->alias, sizeof(t->alias) - 1); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int tgt_next(const uint32_t *after, uint32_t *out)
{
	const struct disc_target *t = disc_target_next(after ? after[0] : 0);

	if (!t)
		return -ENOENT;
	out[0] = t->index;
	return 0;
}

static int tgt_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_disc_target_get(idx[0], col, vb);
}

static const struct h_table_ops target_ops = {.next = tgt_next, .get = tgt_get};

static struct h_table target_table = {
    .name = "sanDiscTargetTable",
    .root = target_table_oid,
    .root_len = OID_LENGTH(target_table_oid),
    .nindex = 1,
    .cols = target_cols,
    .ncols = sizeof(target_cols) / sizeof(target_cols[0]),
    .ops = &target_ops,
};

/* ---- sanDiscCounters ------------------------------------------------------------------------------------- */

static const struct h_column counter_objs[] = {
    H_SCALAR_RO(H_DISC_ST_OK),        H_SCALAR_RO(H_DISC_ST_FAILED),       H_SCALAR_RO(H_DISC_TARGETS_FOUND),
    H_SCALAR_RO(H_DISC_TARGETS_LOST), H_SCALAR_RO(H_DISC_TARGETS_CURRENT), H_SCALAR_RO(H_DISC_SCANS_COMPLETED),
    H_SCALAR_RO(H_DISC_SCAN_PROBES),  H_SCALAR_RO(H_DISC_LAST_SCAN_MS),
};

static int counter_get(unsigned int sub, netsnmp_variable_list *vb)
{
	const struct disc_counters *c = disc_counters();

	switch (sub) {
	case H_DISC_ST_OK: h_set_u32(vb, ASN_COUNTER, c->sendtargets_ok); break;
	case H_DISC_ST_FAILED: h_set_u32(vb, ASN_COUNTER, c->sendtargets_failed); break;
	case H_DISC_TARGETS_FOUND: h_set_u32(vb, ASN_COUNTER, c->targets_found); break;
	case H_DISC_TARGETS_LOST: h_set_u32(vb, ASN_COUNTER, c->targets_lost); break;
	case H_DISC_TARGETS_CURRENT: h_set_u32(vb, ASN_GAUGE, (uint32_t)disc_target_count()); break;
	case H_DISC_SCANS_COMPLETED: h_set_u32(vb, ASN_COUNTER, c->scans_completed); break;
	case H_DISC_SCAN_PROBES: h_set_u32(vb, ASN_COUNTER, c->scan_probes); break;
	case H_DISC_LAST_SCAN_MS: h_set_u32(vb, ASN_UNSIGNED, c->last_scan_ms); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops counter_ops = {.get = counter_get};
static struct h_scalar_group counters = {
    .name = "sanDiscCounters",
    .root = counters_oid,
    .root_len = OID_LENGTH(counters_oid),
    .objs = counter_objs,
    .nobjs = sizeof(counter_objs) / sizeof(counter_objs[0]),
    .ops = &counter_ops,
};

/* ---- registration: only while the discovery engine runs --------------- */

static int registered, wanted, engines_sub; /* engines_sub: bus handle, 0 until subscribed */

void h_disc_tables_shutdown(void)
{
	h_disc_portal_table_shutdown();
	h_table_unregister(&target_table);
	h_disc_source_table_shutdown();
	h_scalar_unregister(&counters);
	registered = 0;
}

static int disc_register(void)
{
	int rc;

	if (registered)
		return 0;
	if ((rc = h_scalar_register(&counters)) < 0 || (rc = h_disc_source_table_init()) < 0 ||
	    (rc = h_table_register(&target_table)) < 0 || (rc = h_disc_portal_table_init()) < 0) {
		h_disc_tables_shutdown();
		return rc;
	}
	registered = 1;
	return 0;
}

static void disc_sync(void)
{
	const struct sa_engine *e = sa_engine_get(SA_ENGINE_DISCOVERY + 1);
	int up = wanted && e && e->oper == SA_OPER_UP;
	int rc;

	if (up && !registered) {
		if ((rc = disc_register()) < 0)
			cm_log(CM_LOG_ERR, "handlers", "cannot register SANAGENT-SESSION-MIB: %s", strerror(-rc));
	} else if (!up && registered) {
		h_disc_tables_shutdown();
	}
}

static void on_engine(int topic, const void *data, void *arg)
{
	const struct sa_engine *e = data;

	(void)topic;
	(void)arg;
	if (e->index == SA_ENGINE_DISCOVERY + 1)
		disc_sync();
}

int h_disc_init(void)
{
	int rc;

	if (!engines_sub) {
		if ((rc = bus_subscribe(BUS_ENGINES, on_engine, NULL)) < 0)
			return rc;
		engines_sub = rc;
	}
	wanted = 1;
	disc_sync();
	return 0;
}

void h_disc_shutdown(void)
{
	wanted = 0;
	if (engines_sub)
		bus_unsubscribe(engines_sub);
	engines_sub = 0;
	h_disc_tables_shutdown();
}
