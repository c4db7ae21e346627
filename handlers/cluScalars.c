/* cluScalars.c: sanCluScalars (version, writer, the allocation lock, granularity, identity, next indexes, grace,
 * role) and sanCluCounters. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "common/log.h"
#include "engines/cluster/clu_mib.h"
#include "engines/cluster/cluster.h"
#include "handlers/cluTables.h"
#include "handlers/handlers.h"
#include "handlers/stateTxn.h"
#include "handlers/table.h"

static const oid scalars_oid[] = {CLU_OID_SCALARS};
static const oid counters_oid[] = {CLU_OID_COUNTERS};
static netsnmp_handler_registration *scalars_reg, *counters_reg;

/* One SET PDU's lock and granularity (each scalar is its own registration: one struct per PDU). */
struct scalar_txn {
	int has_lock, lock_done, has_gran, gran_done;
	long lock, lock_old;
	int gran, gran_old;
};
#define SCALAR_TXN "sanCluScalars:txn"

static int scalar_get(unsigned int which, netsnmp_variable_list *vb)
{
	struct clu_version v;
	uint8_t g[8];

	switch (which) {
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

static void set_err(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r, int err)
{
	netsnmp_set_request_error(reqinfo, r, err);
}

static int scalars_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                           netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	size_t n = OID_LENGTH(scalars_oid);
	struct scalar_txn *t;
	netsnmp_request_info *r;
	int rc, fresh;

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode == MODE_GET) {
		for (r = requests; r; r = r->next)
			if (!r->processed && (rc = scalar_get((unsigned int)r->requestvb->name[n], r->requestvb)))
				set_err(reqinfo, r, rc);
		return SNMP_ERR_NOERROR;
	}
	t = h_scalar_txn(reqinfo, SCALAR_TXN, sizeof(*t), reqinfo->mode == MODE_SET_RESERVE1, &fresh);
	for (r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;
		unsigned int which = (unsigned int)vb->name[n];

		switch (reqinfo->mode) {
		case MODE_SET_RESERVE1:
			if (!t) {
				set_err(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
				return SNMP_ERR_NOERROR;
			}
			if (which == CLU_S_ALLOC_LOCK) {
				if ((rc = netsnmp_check_vb_int_range(vb, 0, 2147483647)) != SNMP_ERR_NOERROR) {
					set_err(reqinfo, r, rc);
					return SNMP_ERR_NOERROR;
				}
				t->has_lock = 1;
				t->lock = *vb->val.integer;
			} else if (which == CLU_S_GRANULARITY) {
				if ((rc = netsnmp_check_vb_int_range(vb, CLU_GRAN_CONTROLLER, CLU_GRAN_DEVICE)) !=
				    SNMP_ERR_NOERROR) {
					set_err(reqinfo, r, rc);
					return SNMP_ERR_NOERROR;
				}
				t->has_gran = 1;
				t->gran = (int)*vb->val.integer;
			} else {
				set_err(reqinfo, r, SNMP_ERR_NOTWRITABLE);
				return SNMP_ERR_NOERROR;
			}
			break;
		case MODE_SET_RESERVE2:
			/* RFC 2579 TestAndIncr: a stale value fails the whole request before anything is applied. */
			if (which == CLU_S_ALLOC_LOCK && t && (rc = clu_lock_check(t->lock)) < 0) {
				set_err(reqinfo, r, h_table_err(rc, H_PHASE_CHECK));
				return SNMP_ERR_NOERROR;
			}
			if (which == CLU_S_GRANULARITY && !clu_running()) {
				set_err(reqinfo, r, SNMP_ERR_INCONSISTENTVALUE);
				return SNMP_ERR_NOERROR;
			}
			break;
		case MODE_SET_ACTION:
			if (!t)
				break;
			if (which == CLU_S_ALLOC_LOCK && !t->lock_done) {
				/* Checked again: the value must still be the one the request read. */
				if ((rc = clu_lock_check(t->lock)) < 0) {
					set_err(reqinfo, r, SNMP_ERR_COMMITFAILED);
					return SNMP_ERR_NOERROR;
				}
				t->lock_old = clu_lock_value();
				clu_lock_incr();
				t->lock_done = 1;
			} else if (which == CLU_S_GRANULARITY && !t->gran_done) {
				t->gran_old = clu_granularity();
				if ((rc = clu_granularity_set(t->gran)) < 0) {
					set_err(reqinfo, r, h_table_err(rc, H_PHASE_ACTION));
					return SNMP_ERR_NOERROR;
				}
				t->gran_done = 1;
			}
			break;
		case MODE_SET_UNDO:
			if (!t)
				break;
			if (which == CLU_S_ALLOC_LOCK && t->lock_done) {
				clu_lock_restore(t->lock_old);
				t->lock_done = 0;
			} else if (which == CLU_S_GRANULARITY && t->gran_done) {
				if ((rc = clu_granularity_set(t->gran_old)) < 0) {
					sa_log(SA_LOG_ERR, "handlers", "sanCluGranularity: cannot restore: %s",
					       strerror(-rc));
					set_err(reqinfo, r, SNMP_ERR_UNDOFAILED);
				}
				t->gran_done = 0;
			}
			break;
		default: break;
		}
	}
	return SNMP_ERR_NOERROR;
}

static int counters_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                            netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct clu_counters c;
	size_t n = OID_LENGTH(counters_oid);

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	clu_counters_get(&c);
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;
		const uint64_t v[] = {c.changes,        c.adoptions,     c.pushes_sent,   c.pushes_received,
		                      c.pulls,          c.conflicts,     c.probes,        c.probe_failures,
		                      c.new_devices,    c.devices_gone,  c.lock_rejected, c.consistency_rejected,
		                      c.logins_refused, c.ownership_lost};
		unsigned int which = (unsigned int)vb->name[n];

		if (r->processed)
			continue;
		if (which >= CLU_C_CHANGES && which <= CLU_C_OWNERSHIP_LOST)
			h_set_u64(vb, v[which - 1]);
		else
			set_err(reqinfo, r, SNMP_NOSUCHOBJECT);
	}
	return SNMP_ERR_NOERROR;
}

int h_clu_scalars_init(void)
{
	netsnmp_handler_registration *reg;

	if (!scalars_reg) {
		reg = netsnmp_create_handler_registration("sanCluScalars", scalars_handler, scalars_oid,
		                                          OID_LENGTH(scalars_oid), HANDLER_CAN_RWRITE);
		if (!reg || h_stxn_inject(reg) < 0 ||
		    netsnmp_register_scalar_group(reg, CLU_S_VERSION, CLU_S_ROLE) != MIB_REGISTERED_OK) {
			sa_log(SA_LOG_ERR, "handlers", "cannot register sanCluScalars");
			return -EEXIST;
		}
		scalars_reg = reg;
	}
	if (!counters_reg) {
		reg = netsnmp_create_handler_registration("sanCluCounters", counters_handler, counters_oid,
		                                          OID_LENGTH(counters_oid), HANDLER_CAN_RONLY);
		if (!reg ||
		    netsnmp_register_scalar_group(reg, CLU_C_CHANGES, CLU_C_OWNERSHIP_LOST) != MIB_REGISTERED_OK) {
			sa_log(SA_LOG_ERR, "handlers", "cannot register sanCluCounters");
			return -EEXIST;
		}
		counters_reg = reg;
	}
	return 0;
}

void h_clu_scalars_shutdown(void)
{
	if (scalars_reg)
		netsnmp_unregister_handler(scalars_reg);
	if (counters_reg)
		netsnmp_unregister_handler(counters_reg);
	scalars_reg = counters_reg = NULL;
}
