/* cluScalars.c: sanCluScalars (version, writer, the allocation lock, granularity, identity, next indexes, grace,
 * role) and sanCluCounters. */
#include <config.h>

#include <errno.h>

#include "engines/cluster/clu_mib.h"
#include "engines/cluster/cluster.h"
#include "handlers/cluTables.h"
#include "handlers/handlers.h"
#include "handlers/scalars.h"

static const oid scalars_oid[] = {CLU_OID_SCALARS};
static const oid counters_oid[] = {CLU_OID_COUNTERS};

/* ---- sanCluScalars --------------------------------------------------------------------------------------- */

static const struct h_column scalar_objs[] = {
    H_SCALAR_RO(CLU_S_VERSION),
    H_SCALAR_RO(CLU_S_VERSION_WRITER),
    {CLU_S_ALLOC_LOCK, H_RW, H_SYN_INT, 0, 0, 2147483647},
    {CLU_S_GRANULARITY, H_RW, H_SYN_INT, 0, CLU_GRAN_CONTROLLER, CLU_GRAN_DEVICE},
    H_SCALAR_RO(CLU_S_SELF_GUID),
    H_SCALAR_RO(CLU_S_RES_NEXT_INDEX),
    H_SCALAR_RO(CLU_S_MEMBER_NEXT_INDEX),
    H_SCALAR_RO(CLU_S_OWNERSHIP_GRACE),
    H_SCALAR_RO(CLU_S_ROLE),
};

/* The lock as the request read it and the granularity it wants; what apply replaced, for undo. */
struct scalars_image {
	long lock, lock_old;
	int gran, gran_old;
};

enum { DONE_LOCK = 1, DONE_GRAN = 2 };

static int scalar_get(unsigned int sub, netsnmp_variable_list *vb)
{
	struct clu_version v;
	uint8_t g[8];

	switch (sub) {
	case CLU_S_VERSION:
		clu_version_get(&v);
		h_set_u32(vb, ASN_UNSIGNED, v.counter);
		break;
	case CLU_S_VERSION_WRITER:
		clu_version_get(&v);
		h_set_octets(vb, v.writer, sizeof(v.writer));
		break;
	case CLU_S_ALLOC_LOCK: h_set_int(vb, clu_lock_value()); break;
	case CLU_S_GRANULARITY: h_set_int(vb, clu_granularity()); break;
	case CLU_S_SELF_GUID:
		clu_self_guid(g);
		h_set_octets(vb, g, sizeof(g));
		break;
	case CLU_S_RES_NEXT_INDEX: h_set_u32(vb, ASN_UNSIGNED, clu_res_next_index()); break;
	case CLU_S_MEMBER_NEXT_INDEX: h_set_u32(vb, ASN_UNSIGNED, clu_member_next_index()); break;
	case CLU_S_OWNERSHIP_GRACE: h_set_u32(vb, ASN_UNSIGNED, (uint32_t)clu_ownership_grace()); break;
	case CLU_S_ROLE: h_set_int(vb, clu_role()); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static void scalar_load(void *image)
{
	struct scalars_image *w = image;

	w->lock = clu_lock_value();
	w->gran = clu_granularity();
}

static int scalar_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	struct scalars_image *w = image;

	switch (sub) {
	case CLU_S_ALLOC_LOCK: return h_put_long(&w->lock, vb);
	case CLU_S_GRANULARITY: return h_put_int(&w->gran, vb);
	default: return 0;
	}
}

/* RFC 2579 TestAndIncr: a stale value fails the whole request in RESERVE2, before any table's ACTION runs. */
static int scalar_check(struct h_scalar_txn *x)
{
	const struct scalars_image *w = x->work;
	int rc;

	if (h_scalar_named(x, CLU_S_ALLOC_LOCK) && (rc = clu_lock_check(w->lock)) < 0) {
		x->blame = CLU_S_ALLOC_LOCK;
		return rc;
	}
	if (h_scalar_named(x, CLU_S_GRANULARITY) && !clu_running()) {
		x->blame = CLU_S_GRANULARITY;
		return -ENODEV;
	}
	return 0;
}

static int scalar_apply(struct h_scalar_txn *x)
{
	struct scalars_image *w = x->work;
	int rc;

	if (h_scalar_named(x, CLU_S_ALLOC_LOCK)) {
		x->blame = CLU_S_ALLOC_LOCK;
		/* Checked again: the value must still be the one the request read (-ESTALE: commitFailed). */
		if ((rc = clu_lock_check(w->lock)) < 0)
			return rc;
		w->lock_old = clu_lock_value();
		clu_lock_incr();
		x->done |= DONE_LOCK;
	}
	if (h_scalar_named(x, CLU_S_GRANULARITY)) {
		x->blame = CLU_S_GRANULARITY;
		w->gran_old = clu_granularity();
		if ((rc = clu_granularity_set(w->gran)) < 0)
			return rc;
		x->done |= DONE_GRAN;
	}
	return 0;
}

static int scalar_undo(struct h_scalar_txn *x)
{
	const struct scalars_image *w = x->work;

	if (x->done & DONE_LOCK)
		clu_lock_restore(w->lock_old);
	if (x->done & DONE_GRAN)
		return clu_granularity_set(w->gran_old);
	return 0;
}

static const struct h_scalar_ops scalar_ops = {
    .get = scalar_get,
    .load = scalar_load,
    .store = scalar_store,
    .check = scalar_check,
    .apply = scalar_apply,
    .undo = scalar_undo,
};

static struct h_scalar_group scalars = {
    .name = "sanCluScalars",
    .root = scalars_oid,
    .root_len = OID_LENGTH(scalars_oid),
    .objs = scalar_objs,
    .nobjs = sizeof(scalar_objs) / sizeof(scalar_objs[0]),
    .image_size = sizeof(struct scalars_image),
    .writable = 1,
    .ops = &scalar_ops,
};

/* ---- sanCluCounters -------------------------------------------------------------------------------------- */

static const struct h_column counter_objs[] = {
    H_SCALAR_RO(CLU_C_CHANGES),         H_SCALAR_RO(CLU_C_ADOPTIONS),      H_SCALAR_RO(CLU_C_PUSHES_SENT),
    H_SCALAR_RO(CLU_C_PUSHES_RECEIVED), H_SCALAR_RO(CLU_C_PULLS),          H_SCALAR_RO(CLU_C_CONFLICTS),
    H_SCALAR_RO(CLU_C_PROBES),          H_SCALAR_RO(CLU_C_PROBE_FAILURES), H_SCALAR_RO(CLU_C_NEW_DEVICES),
    H_SCALAR_RO(CLU_C_DEVICES_GONE),    H_SCALAR_RO(CLU_C_LOCK_REJECTED),  H_SCALAR_RO(CLU_C_CONSISTENCY_REJECTED),
    H_SCALAR_RO(CLU_C_LOGINS_REFUSED),  H_SCALAR_RO(CLU_C_OWNERSHIP_LOST),
};

static int counter_get(unsigned int sub, netsnmp_variable_list *vb)
{
	struct clu_counters c;

	clu_counters_get(&c);
	const uint64_t v[] = {c.changes,        c.adoptions,     c.pushes_sent,   c.pushes_received,
	                      c.pulls,          c.conflicts,     c.probes,        c.probe_failures,
	                      c.new_devices,    c.devices_gone,  c.lock_rejected, c.consistency_rejected,
	                      c.logins_refused, c.ownership_lost};

	if (sub < CLU_C_CHANGES || sub > CLU_C_OWNERSHIP_LOST)
		return SNMP_NOSUCHOBJECT;
	h_set_u64(vb, v[sub - CLU_C_CHANGES]);
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops counter_ops = {.get = counter_get};
static struct h_scalar_group counters = {
    .name = "sanCluCounters",
    .root = counters_oid,
    .root_len = OID_LENGTH(counters_oid),
    .objs = counter_objs,
    .nobjs = sizeof(counter_objs) / sizeof(counter_objs[0]),
    .ops = &counter_ops,
};

int h_clu_scalars_init(void)
{
	int rc;

	if ((rc = h_scalar_register(&scalars)) < 0 || (rc = h_scalar_register(&counters)) < 0)
		return rc;
	return 0;
}

void h_clu_scalars_shutdown(void)
{
	h_scalar_unregister(&scalars);
	h_scalar_unregister(&counters);
}
