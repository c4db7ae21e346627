/* redirScalars.c: the redirector's controls (rebalance, health checks), portal counters and NextIndex scalars. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/redirTables.h"
#include "handlers/stateTxn.h"
#include "handlers/table.h"
#include "common/log.h"

static const oid controls_oid[] = {SA_OID_REDIR_CONTROLS};
static const oid counters_oid[] = {SA_OID_REDIR_COUNTERS};
static const oid srv_next_oid[] = {SA_OID_REDIR_SERVER_NEXT};
static const oid res_next_oid[] = {SA_OID_REDIR_RESOURCE_NEXT};
static const oid role_oid[] = {SA_OID_REDIR_OBJECTS, 9}; /* sanRedirRole */
static netsnmp_handler_registration *controls_reg, *counters_reg, *role_reg;

/* A SET of the controls: every varbind of the PDU goes into one params
 * struct that is validated as a whole, so a multi-varbind SET is
 * atomic and cross-checks (timeout vs interval) see the final values. */
struct controls_txn {
	struct redir_params old, want;
	int trigger; /* 1: run the rebalancer at COMMIT */
	int applied;
};
#define CONTROLS_TXN "sanRedirControls:txn"

static const struct redir_params *params_or_zero(void)
{
	static const struct redir_params zero;
	const struct redir_params *p = redir_params();

	/* The engine may be off: the controls read as zero then. */
	return p ? p : &zero;
}

int h_redir_check_uint(const netsnmp_variable_list *vb, unsigned long lo, unsigned long hi)
{
	int rc = netsnmp_check_vb_uint(vb);

	if (rc != SNMP_ERR_NOERROR)
		return rc;
	if ((unsigned long)*vb->val.integer < lo || (unsigned long)*vb->val.integer > hi)
		return SNMP_ERR_WRONGVALUE;
	return SNMP_ERR_NOERROR;
}

static int control_get(unsigned int which, netsnmp_variable_list *vb)
{
	const struct redir_params *p = params_or_zero();

	switch (which) {
	case H_REDIR_THRESHOLD: h_redir_set_u32(vb, ASN_UNSIGNED, p->threshold_pct); break;
	case H_REDIR_INTERVAL: h_redir_set_u32(vb, ASN_UNSIGNED, p->interval_s); break;
	case H_REDIR_MAX_MOVES: h_redir_set_u32(vb, ASN_UNSIGNED, p->max_moves); break;
	case H_REDIR_TRIGGER: h_redir_set_int(vb, 0); break;
	case H_REDIR_PROBE_INTERVAL: h_redir_set_u32(vb, ASN_UNSIGNED, p->probe_interval_ms); break;
	case H_REDIR_PROBE_TIMEOUT: h_redir_set_u32(vb, ASN_UNSIGNED, p->probe_timeout_ms); break;
	case H_REDIR_LOAD_INTERVAL: h_redir_set_u32(vb, ASN_UNSIGNED, p->load_interval_s); break;
	case H_REDIR_PERMANENT: h_redir_set_int(vb, p->permanent ? 1 : 2); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* RESERVE1, per varbind: type, length and range. */
static int control_check(unsigned int which, const netsnmp_variable_list *vb, struct controls_txn *t)
{
	unsigned long v;
	int rc;

	switch (which) {
	case H_REDIR_THRESHOLD: rc = h_redir_check_uint(vb, 1, 1000); break;
	case H_REDIR_INTERVAL: rc = h_redir_check_uint(vb, 0, 86400); break;
	case H_REDIR_MAX_MOVES: rc = h_redir_check_uint(vb, 0, 1000000); break;
	case H_REDIR_TRIGGER: rc = netsnmp_check_vb_int_range(vb, 0, 1); break;
	case H_REDIR_PROBE_INTERVAL:
	case H_REDIR_PROBE_TIMEOUT: rc = h_redir_check_uint(vb, 50, 600000); break;
	case H_REDIR_LOAD_INTERVAL: rc = h_redir_check_uint(vb, 1, 3600); break;
	case H_REDIR_PERMANENT: rc = netsnmp_check_vb_truthvalue(vb); break;
	default: return SNMP_ERR_NOTWRITABLE;
	}
	if (rc != SNMP_ERR_NOERROR)
		return rc;
	v = (unsigned long)*vb->val.integer;
	switch (which) {
	case H_REDIR_THRESHOLD: t->want.threshold_pct = (unsigned int)v; break;
	case H_REDIR_INTERVAL: t->want.interval_s = (unsigned int)v; break;
	case H_REDIR_MAX_MOVES: t->want.max_moves = (unsigned int)v; break;
	case H_REDIR_TRIGGER: t->trigger = v == 1; break;
	case H_REDIR_PROBE_INTERVAL: t->want.probe_interval_ms = (unsigned int)v; break;
	case H_REDIR_PROBE_TIMEOUT: t->want.probe_timeout_ms = (unsigned int)v; break;
	case H_REDIR_LOAD_INTERVAL: t->want.load_interval_s = (unsigned int)v; break;
	case H_REDIR_PERMANENT: t->want.permanent = v == 1; break;
	}
	return SNMP_ERR_NOERROR;
}

static int controls_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                            netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	size_t n = OID_LENGTH(controls_oid);
	struct controls_txn *t;
	netsnmp_request_info *r;
	int rc, fresh;

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode == MODE_GET) {
		for (r = requests; r; r = r->next)
			if (!r->processed && (rc = control_get((unsigned int)r->requestvb->name[n], r->requestvb)))
				netsnmp_set_request_error(reqinfo, r, rc);
		return SNMP_ERR_NOERROR;
	}

	t = h_scalar_txn(reqinfo, CONTROLS_TXN, sizeof(*t), reqinfo->mode == MODE_SET_RESERVE1, &fresh);
	switch (reqinfo->mode) {
	case MODE_SET_RESERVE1:
		if (!t) {
			netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_RESOURCEUNAVAILABLE);
			return SNMP_ERR_NOERROR;
		}
		if (fresh) {
			t->old = *params_or_zero();
			t->want = t->old;
		}
		for (r = requests; r; r = r->next) {
			rc = control_check((unsigned int)r->requestvb->name[n], r->requestvb, t);
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, r, rc);
				return SNMP_ERR_NOERROR;
			}
		}
		if (memcmp(&t->want, &t->old, sizeof(t->want)) != 0 || t->trigger) {
			/* Without the engine there is nothing to set or trigger. */
			if (!redir_params()) {
				netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_INCONSISTENTVALUE);
				return SNMP_ERR_NOERROR;
			}
		}
		if (memcmp(&t->want, &t->old, sizeof(t->want)) != 0 &&
		    (rc = h_table_err(redir_params_validate(&t->want), H_PHASE_CHECK)) != SNMP_ERR_NOERROR) {
			/* The engine's cross-checks: blame the last varbind, they
			 * all took part. */
			for (r = requests; r->next; r = r->next)
				;
			netsnmp_set_request_error(reqinfo, r, rc);
		}
		break;

	case MODE_SET_ACTION:
		/* The first call applies what every varbind of the PDU asked. */
		if (!t || t->applied || memcmp(&t->want, &t->old, sizeof(t->want)) == 0)
			break;
		rc = redir_params_set(&t->want);
		if (rc < 0) {
			sa_log(SA_LOG_WARNING, "handlers", "redirector controls: SET failed: %s", strerror(-rc));
			netsnmp_set_request_error(reqinfo, requests, h_table_err(rc, H_PHASE_ACTION));
			break;
		}
		t->applied = 1;
		break;

	case MODE_SET_UNDO:
		if (t && t->applied) {
			t->applied = 0;
			if ((rc = redir_params_set(&t->old)) < 0) {
				sa_log(SA_LOG_ERR, "handlers", "redirector controls: cannot restore: %s",
				       strerror(-rc));
				netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_UNDOFAILED);
			}
		}
		break;

	case MODE_SET_COMMIT:
		/* The rebalance runs after the answer: it cannot be undone, so
		 * it waits until every other varbind has succeeded. */
		if (t && t->trigger) {
			t->trigger = 0; /* once per PDU */
			if ((rc = redir_rebalance_now()) < 0)
				sa_log(SA_LOG_WARNING, "handlers", "redirector: manual rebalance not started: %s",
				       strerror(-rc));
		}
		break;

	default: break;
	}
	return SNMP_ERR_NOERROR;
}

static int counters_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                            netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	static const struct redir_counters zero;
	const struct redir_counters *c = redir_counters();
	size_t n = OID_LENGTH(counters_oid);
	netsnmp_request_info *r;

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	if (!c)
		c = &zero;
	for (r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;

		if (r->processed)
			continue;
		switch (vb->name[n]) {
		case H_REDIR_CONNECTIONS: h_redir_set_u64(vb, ASN_COUNTER64, c->connections); break;
		case H_REDIR_REDIRECTS: h_redir_set_u64(vb, ASN_COUNTER64, c->redirects); break;
		case H_REDIR_DISCOVERY: h_redir_set_u64(vb, ASN_COUNTER64, c->discovery_sessions); break;
		case H_REDIR_REJECTS: h_redir_set_u64(vb, ASN_COUNTER64, c->rejects); break;
		case H_REDIR_MALFORMED: h_redir_set_u64(vb, ASN_COUNTER64, c->malformed); break;
		case H_REDIR_REFUSED: h_redir_set_u64(vb, ASN_COUNTER64, c->refused); break;
		case H_REDIR_EVICTED: h_redir_set_u64(vb, ASN_COUNTER64, c->evicted); break;
		default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
		}
	}
	return SNMP_ERR_NOERROR;
}

/* sanRedirRole: read-only, what this agent is in an etcd group. */
static int role_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                        netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	long role = redir_role();

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r; r = r->next)
		if (!r->processed)
			snmp_set_var_typed_value(r->requestvb, ASN_INTEGER, &role, sizeof(role));
	return SNMP_ERR_NOERROR;
}

static struct h_next_index srv_next = {
    .name = "sanRedirServerNextIndex",
    .root = srv_next_oid,
    .root_len = OID_LENGTH(srv_next_oid),
    .value = redir_server_next_index,
    .table = &h_redir_server_table,
};

static struct h_next_index res_next = {
    .name = "sanRedirResourceNextIndex",
    .root = res_next_oid,
    .root_len = OID_LENGTH(res_next_oid),
    .value = redir_resource_next_index,
    .table = &h_redir_resource_table,
};

int h_redir_scalars_init(void)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (!controls_reg) {
		reg = netsnmp_create_handler_registration("sanRedirControls", controls_handler, controls_oid,
		                                          OID_LENGTH(controls_oid), HANDLER_CAN_RWRITE);
		if (!reg || h_stxn_inject(reg) < 0 ||
		    netsnmp_register_scalar_group(reg, H_REDIR_THRESHOLD, H_REDIR_PERMANENT) != MIB_REGISTERED_OK) {
			sa_log(SA_LOG_ERR, "handlers", "cannot register sanRedirControls");
			return -EEXIST;
		}
		controls_reg = reg;
	}
	if (!counters_reg) {
		reg = netsnmp_create_handler_registration("sanRedirCounters", counters_handler, counters_oid,
		                                          OID_LENGTH(counters_oid), HANDLER_CAN_RONLY);
		if (!reg ||
		    netsnmp_register_scalar_group(reg, H_REDIR_CONNECTIONS, H_REDIR_EVICTED) != MIB_REGISTERED_OK) {
			sa_log(SA_LOG_ERR, "handlers", "cannot register sanRedirCounters");
			return -EEXIST;
		}
		counters_reg = reg;
	}
	if ((rc = h_next_index_register(&srv_next)) < 0 || (rc = h_next_index_register(&res_next)) < 0)
		return rc;
	if (!role_reg) {
		reg = netsnmp_create_handler_registration("sanRedirRole", role_handler, role_oid, OID_LENGTH(role_oid),
		                                          HANDLER_CAN_RONLY);
		if (!reg || netsnmp_register_scalar(reg) != MIB_REGISTERED_OK) {
			sa_log(SA_LOG_ERR, "handlers", "cannot register sanRedirRole");
			return -EEXIST;
		}
		role_reg = reg;
	}
	return 0;
}

void h_redir_scalars_shutdown(void)
{
	netsnmp_handler_registration **regs[] = {&controls_reg, &counters_reg, &role_reg};
	size_t i;

	h_next_index_unregister(&srv_next);
	h_next_index_unregister(&res_next);

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (*regs[i]) {
			netsnmp_unregister_handler(*regs[i]);
			*regs[i] = NULL;
		}
	}
}
