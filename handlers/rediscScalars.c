/* rediscScalars.c: SANAGENT-REDISCOVER-MIB's policy scalars (read-write) and feedback/decision counters. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/handlers.h"
#include "handlers/table.h"
#include "common/log.h"

static const oid policy_oid[] = {REDISC_OID_POLICY};
static const oid counters_oid[] = {REDISC_OID_COUNTERS};
static netsnmp_handler_registration *policy_reg, *counters_reg;

/* The varbinds of one SET go into one policy that the engine validates as
 * a whole.  ACTION lays only the objects this request names over the policy
 * in force then (net-snmp may hand the varbinds of one PDU to the handler
 * in more than one call), and UNDO puts back only those. */
struct policy_txn {
	struct redisc_policy old, want;
	unsigned int changed; /* bit (scalar number) */
	int applied;
};

/* dst's scalars named in changed, taken from src. */
static void policy_overlay(struct redisc_policy *dst, const struct redisc_policy *src, unsigned int changed)
{
	if (changed & (1u << REDISC_P_MODE))
		dst->mode = src->mode;
	if (changed & (1u << REDISC_P_HOLD))
		dst->hold_s = src->hold_s;
	if (changed & (1u << REDISC_P_TARGET_COOLDOWN))
		dst->target_cooldown_s = src->target_cooldown_s;
	if (changed & (1u << REDISC_P_PORTAL_COOLDOWN))
		dst->portal_cooldown_s = src->portal_cooldown_s;
	if (changed & (1u << REDISC_P_MAX_MOVES))
		dst->max_moves_per_hour = src->max_moves_per_hour;
	if (changed & (1u << REDISC_P_IMBALANCE))
		dst->imbalance_pct = src->imbalance_pct;
	if (changed & (1u << REDISC_P_AGE_OUT))
		dst->age_out_s = src->age_out_s;
}
#define POLICY_TXN "sanRediscPolicy:txn"

static const struct redisc_policy *policy_or_zero(void)
{
	static const struct redisc_policy zero;
	const struct redisc_policy *p = redisc_policy();

	/* The engine may be off: the policy reads as zero then. */
	return p ? p : &zero;
}

static int policy_get(unsigned int which, netsnmp_variable_list *vb)
{
	const struct redisc_policy *p = policy_or_zero();

	switch (which) {
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

static int check_uint(const netsnmp_variable_list *vb, unsigned long lo, unsigned long hi)
{
	int rc = netsnmp_check_vb_uint(vb);

	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if ((unsigned long)*vb->val.integer < lo || (unsigned long)*vb->val.integer > hi)
		return SNMP_ERR_WRONGVALUE;
	return SNMP_ERR_NOERROR;
}

/* RESERVE1, per varbind: type and the MIB's range; then into the wanted policy. */
static int policy_check(unsigned int which, const netsnmp_variable_list *vb, struct redisc_policy *want)
{
	int rc;

	switch (which) {
	case REDISC_P_MODE: rc = netsnmp_check_vb_int_range(vb, REDISC_OFF, REDISC_ACT); break;
	case REDISC_P_HOLD: rc = check_uint(vb, 0, 86400); break;
	case REDISC_P_TARGET_COOLDOWN:
	case REDISC_P_PORTAL_COOLDOWN: rc = check_uint(vb, 0, 604800); break;
	case REDISC_P_MAX_MOVES: rc = check_uint(vb, 0, 1000); break;
	case REDISC_P_IMBALANCE: rc = check_uint(vb, 50, 100); break;
	case REDISC_P_AGE_OUT: rc = check_uint(vb, 1, 86400); break;
	default: return SNMP_ERR_NOTWRITABLE;
	}
	if (rc != SNMP_ERR_NOERROR)
		return rc;
	switch (which) {
	case REDISC_P_MODE: want->mode = (int)*vb->val.integer; break;
	case REDISC_P_HOLD: want->hold_s = (uint32_t)*vb->val.integer; break;
	case REDISC_P_TARGET_COOLDOWN: want->target_cooldown_s = (uint32_t)*vb->val.integer; break;
	case REDISC_P_PORTAL_COOLDOWN: want->portal_cooldown_s = (uint32_t)*vb->val.integer; break;
	case REDISC_P_MAX_MOVES: want->max_moves_per_hour = (uint32_t)*vb->val.integer; break;
	case REDISC_P_IMBALANCE: want->imbalance_pct = (uint32_t)*vb->val.integer; break;
	case REDISC_P_AGE_OUT: want->age_out_s = (uint32_t)*vb->val.integer; break;
	}
	return SNMP_ERR_NOERROR;
}

static int policy_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                          netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	size_t n = OID_LENGTH(policy_oid);
	struct policy_txn *t;
	netsnmp_request_info *r;
	int rc, fresh;

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode == MODE_GET) {
		for (r = requests; r; r = r->next)
			if (!r->processed && (rc = policy_get((unsigned int)r->requestvb->name[n], r->requestvb)))
				netsnmp_set_request_error(reqinfo, r, rc);
		return SNMP_ERR_NOERROR;
	}
	t = h_scalar_txn(reqinfo, POLICY_TXN, sizeof(*t), reqinfo->mode == MODE_SET_RESERVE1, &fresh);
	switch (reqinfo->mode) {
	case MODE_SET_RESERVE1:
		if (!t) {
			netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_RESOURCEUNAVAILABLE);
			return SNMP_ERR_NOERROR;
		}
		if (fresh) {
			t->old = *policy_or_zero();
			t->want = t->old;
		}
		for (r = requests; r; r = r->next) {
			unsigned int which = (unsigned int)r->requestvb->name[n];

			rc = policy_check(which, r->requestvb, &t->want);
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, r, rc);
				return SNMP_ERR_NOERROR;
			}
			t->changed |= 1u << which;
		}
		/* The engine's own validation (and -ENODEV while it is off). */
		if ((rc = h_table_err(redisc_policy_check(&t->want), H_PHASE_CHECK)) != SNMP_ERR_NOERROR) {
			for (r = requests; r->next; r = r->next)
				;
			netsnmp_set_request_error(reqinfo, r, rc);
		}
		break;
	case MODE_SET_ACTION: {
		struct redisc_policy p;

		/* The first call applies what every varbind of the PDU asked. */
		if (!t || !t->changed || t->applied)
			break;
		p = *policy_or_zero();
		policy_overlay(&p, &t->want, t->changed);
		if ((rc = redisc_policy_set(&p)) < 0) {
			netsnmp_set_request_error(reqinfo, requests, h_table_err(rc, H_PHASE_ACTION));
			break;
		}
		t->applied = 1;
		break;
	}
	case MODE_SET_UNDO: {
		struct redisc_policy p = *policy_or_zero();

		if (!t || !t->applied)
			break;
		t->applied = 0;
		policy_overlay(&p, &t->old, t->changed);
		if ((rc = redisc_policy_set(&p)) < 0) {
			sa_log(SA_LOG_ERR, "handlers", "rediscover policy: cannot restore: %s", strerror(-rc));
			netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_UNDOFAILED);
		}
		break;
	}
	default: break;
	}
	return SNMP_ERR_NOERROR;
}

static int counters_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                            netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	static const struct redisc_counters zero;
	const struct redisc_counters *c = redisc_counters();
	size_t n = OID_LENGTH(counters_oid);
	netsnmp_request_info *r;

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	/* Off: zeros rather than holes in the MIB. */
	if (!c)
		c = &zero;
	for (r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;

		if (r->processed)
			continue;
		switch (vb->name[n]) {
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
		default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
		}
	}
	return SNMP_ERR_NOERROR;
}

static int register_group(netsnmp_handler_registration **slot, const char *name, Netsnmp_Node_Handler *fn,
                          const oid *root, size_t len, int modes, unsigned int last)
{
	netsnmp_handler_registration *reg = netsnmp_create_handler_registration(name, fn, root, len, modes);

	if (!reg)
		return -ENOMEM;
	if (netsnmp_register_scalar_group(reg, 1, last) != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register %s", name);
		return -EEXIST;
	}
	*slot = reg;
	return 0;
}

int h_redisc_scalars_init(void)
{
	int rc;

	if (!policy_reg && (rc = register_group(&policy_reg, "sanRediscPolicy", policy_handler, policy_oid,
	                                        OID_LENGTH(policy_oid), HANDLER_CAN_RWRITE, REDISC_P_AGE_OUT)) < 0)
		return rc;
	if (!counters_reg &&
	    (rc = register_group(&counters_reg, "sanRediscCounters", counters_handler, counters_oid,
	                         OID_LENGTH(counters_oid), HANDLER_CAN_RONLY, REDISC_C_POLL_FAILURES)) < 0)
		return rc;
	return 0;
}

void h_redisc_scalars_shutdown(void)
{
	if (policy_reg)
		netsnmp_unregister_handler(policy_reg);
	if (counters_reg)
		netsnmp_unregister_handler(counters_reg);
	policy_reg = counters_reg = NULL;
}
