/* rediscScalars.c: SANAGENT-REDISCOVER-MIB's policy scalars (read-write) and feedback/decision counters. */
#include <config.h>

#include <errno.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/handlers.h"
#include "handlers/scalars.h"

static const oid policy_oid[] = {REDISC_OID_POLICY};
static const oid counters_oid[] = {REDISC_OID_COUNTERS};

/* ---- sanRediscPolicy ------------------------------------------------------------------------------------- */

static const struct h_column policy_objs[] = {
    {REDISC_P_MODE, H_RW, H_SYN_INT, 0, REDISC_OFF, REDISC_ACT},
    {REDISC_P_HOLD, H_RW, H_SYN_UINT, 0, 0, 86400},
    {REDISC_P_TARGET_COOLDOWN, H_RW, H_SYN_UINT, 0, 0, 604800},
    {REDISC_P_PORTAL_COOLDOWN, H_RW, H_SYN_UINT, 0, 0, 604800},
    {REDISC_P_MAX_MOVES, H_RW, H_SYN_UINT, 0, 0, 1000},
    {REDISC_P_IMBALANCE, H_RW, H_SYN_UINT, 0, 50, 100},
    {REDISC_P_AGE_OUT, H_RW, H_SYN_UINT, 0, 1, 86400},
};

static const struct redisc_policy *policy_or_zero(void)
{
	static const struct redisc_policy zero;
	const struct redisc_policy *p = redisc_policy();

	/* The engine may be off: the policy reads as zero then. */
	return p ? p : &zero;
}

static int policy_get(unsigned int sub, netsnmp_variable_list *vb)
{
	const struct redisc_policy *p = policy_or_zero();

	switch (sub) {
	case REDISC_P_MODE: h_set_int(vb, p->mode ? p->mode : REDISC_OFF); break;
	case REDISC_P_HOLD: h_set_u32(vb, ASN_UNSIGNED, p->hold_s); break;
	case REDISC_P_TARGET_COOLDOWN: h_set_u32(vb, ASN_UNSIGNED, p->target_cooldown_s); break;
	case REDISC_P_PORTAL_COOLDOWN: h_set_u32(vb, ASN_UNSIGNED, p->portal_cooldown_s); break;
	case REDISC_P_MAX_MOVES: h_set_u32(vb, ASN_UNSIGNED, p->max_moves_per_hour); break;
	case REDISC_P_IMBALANCE: h_set_u32(vb, ASN_UNSIGNED, p->imbalance_pct); break;
	case REDISC_P_AGE_OUT: h_set_u32(vb, ASN_UNSIGNED, p->age_out_s); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static void policy_load(void *image)
{
	*(struct redisc_policy *)image = *policy_or_zero();
}

static int policy_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	struct redisc_policy *w = image;

	switch (sub) {
	case REDISC_P_MODE: return h_put_int(&w->mode, vb);
	case REDISC_P_HOLD: return h_put_u32(&w->hold_s, vb);
	case REDISC_P_TARGET_COOLDOWN: return h_put_u32(&w->target_cooldown_s, vb);
	case REDISC_P_PORTAL_COOLDOWN: return h_put_u32(&w->portal_cooldown_s, vb);
	case REDISC_P_MAX_MOVES: return h_put_u32(&w->max_moves_per_hour, vb);
	case REDISC_P_IMBALANCE: return h_put_u32(&w->imbalance_pct, vb);
	case REDISC_P_AGE_OUT: return h_put_u32(&w->age_out_s, vb);
	default: return 0;
	}
}

/* The engine's own validation (and -ENODEV while it is off). */
static int policy_check(struct h_scalar_txn *x)
{
	return redisc_policy_check(x->work);
}

/* dst's objects the request names, taken from src: the rest (the thresholds a table SET of the same request
 * may have changed) stays as it is in force. */
static void policy_overlay(struct redisc_policy *dst, const struct redisc_policy *src, const struct h_scalar_txn *x)
{
	if (h_scalar_named(x, REDISC_P_MODE))
		dst->mode = src->mode;
	if (h_scalar_named(x, REDISC_P_HOLD))
		dst->hold_s = src->hold_s;
	if (h_scalar_named(x, REDISC_P_TARGET_COOLDOWN))
		dst->target_cooldown_s = src->target_cooldown_s;
	if (h_scalar_named(x, REDISC_P_PORTAL_COOLDOWN))
		dst->portal_cooldown_s = src->portal_cooldown_s;
	if (h_scalar_named(x, REDISC_P_MAX_MOVES))
		dst->max_moves_per_hour = src->max_moves_per_hour;
	if (h_scalar_named(x, REDISC_P_IMBALANCE))
		dst->imbalance_pct = src->imbalance_pct;
	if (h_scalar_named(x, REDISC_P_AGE_OUT))
		dst->age_out_s = src->age_out_s;
}

static int policy_apply(struct h_scalar_txn *x)
{
	struct redisc_policy p = *policy_or_zero();
	int rc;

	policy_overlay(&p, x->work, x);
	if ((rc = redisc_policy_set(&p)) == 0)
		x->done = 1;
	return rc;
}

static int policy_undo(struct h_scalar_txn *x)
{
	struct redisc_policy p = *policy_or_zero();

	if (!x->done)
		return 0;
	policy_overlay(&p, x->old, x);
	return redisc_policy_set(&p);
}

static const struct h_scalar_ops policy_ops = {
    .get = policy_get,
    .load = policy_load,
    .store = policy_store,
    .check = policy_check,
    .apply = policy_apply,
    .undo = policy_undo,
};

static struct h_scalar_group policy = {
    .name = "sanRediscPolicy",
    .root = policy_oid,
    .root_len = OID_LENGTH(policy_oid),
    .objs = policy_objs,
    .nobjs = sizeof(policy_objs) / sizeof(policy_objs[0]),
    .image_size = sizeof(struct redisc_policy),
    .writable = 1,
    .ops = &policy_ops,
};

/* ---- sanRediscCounters ----------------------------------------------------------------------------------- */

static const struct h_column counter_objs[] = {
    H_SCALAR_RO(REDISC_C_RECEIVED),
    H_SCALAR_RO(REDISC_C_ACCEPTED),
    H_SCALAR_RO(REDISC_C_DROPPED),
    H_SCALAR_RO(REDISC_C_DROPPED_UNAUTHORIZED),
    H_SCALAR_RO(REDISC_C_DROPPED_UNKNOWN_SESSION),
    H_SCALAR_RO(REDISC_C_DROPPED_MALFORMED),
    H_SCALAR_RO(REDISC_C_DECISIONS),
    H_SCALAR_RO(REDISC_C_SUPPRESSED),
    H_SCALAR_RO(REDISC_C_MOVES),
    H_SCALAR_RO(REDISC_C_MOVES_FAILED),
    H_SCALAR_RO(REDISC_C_MESSAGES),
    H_SCALAR_RO(REDISC_C_REQUESTS),
    H_SCALAR_RO(REDISC_C_POLLS),
    H_SCALAR_RO(REDISC_C_POLL_FAILURES),
};

static int counter_get(unsigned int sub, netsnmp_variable_list *vb)
{
	static const struct redisc_counters zero;
	const struct redisc_counters *c = redisc_counters();

	/* Off: zeros rather than holes in the MIB. */
	if (!c)
		c = &zero;
	switch (sub) {
	case REDISC_C_RECEIVED: h_set_u64(vb, c->received); break;
	case REDISC_C_ACCEPTED: h_set_u64(vb, c->accepted); break;
	case REDISC_C_DROPPED: h_set_u64(vb, c->dropped); break;
	case REDISC_C_DROPPED_UNAUTHORIZED: h_set_u64(vb, c->dropped_unauthorized); break;
	case REDISC_C_DROPPED_UNKNOWN_SESSION: h_set_u64(vb, c->dropped_unknown_session); break;
	case REDISC_C_DROPPED_MALFORMED: h_set_u64(vb, c->dropped_malformed); break;
	case REDISC_C_DECISIONS: h_set_u64(vb, c->decisions); break;
	case REDISC_C_SUPPRESSED: h_set_u64(vb, c->suppressed); break;
	case REDISC_C_MOVES: h_set_u64(vb, c->moves); break;
	case REDISC_C_MOVES_FAILED: h_set_u64(vb, c->moves_failed); break;
	case REDISC_C_MESSAGES: h_set_u64(vb, c->messages); break;
	case REDISC_C_REQUESTS: h_set_u64(vb, c->requests); break;
	case REDISC_C_POLLS: h_set_u64(vb, c->polls); break;
	case REDISC_C_POLL_FAILURES: h_set_u64(vb, c->poll_failures); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops counter_ops = {.get = counter_get};
static struct h_scalar_group counters = {
    .name = "sanRediscCounters",
    .root = counters_oid,
    .root_len = OID_LENGTH(counters_oid),
    .objs = counter_objs,
    .nobjs = sizeof(counter_objs) / sizeof(counter_objs[0]),
    .ops = &counter_ops,
};

int h_redisc_scalars_init(void)
{
	int rc;

	if ((rc = h_scalar_register(&policy)) < 0 || (rc = h_scalar_register(&counters)) < 0)
		return rc;
	return 0;
}

void h_redisc_scalars_shutdown(void)
{
	h_scalar_unregister(&policy);
	h_scalar_unregister(&counters);
}
