/* rediscReactScalars.c: sanRediscReaction, what this agent as an initiator did with the rediscovery messages it got. */
#include <config.h>

#include <errno.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/discovery/login.h"
#include "engines/discovery/readdress.h"
#include "engines/rediscover/redisc_mib.h"
#include "handlers/redisc.h"
#include "handlers/table.h"
#include "common/log.h"

static const oid react_oid[] = {REDISC_OID_REACTION};
static netsnmp_handler_registration *react_reg;

static int react_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct disc_redisc_counters *c = disc_readdress_counters();
	netsnmp_request_info *r;

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR; /* registered read-only */
	for (r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		switch (r->requestvb->name[OID_LENGTH(react_oid)]) {
		case REDISC_R_RECEIVED: h_set_u64(r->requestvb, c->received); break;
		case REDISC_R_TYPE1: h_set_u64(r->requestvb, c->type1); break;
		case REDISC_R_TYPE2: h_set_u64(r->requestvb, c->type2); break;
		case REDISC_R_DROPPED_UNAUTHORIZED: h_set_u64(r->requestvb, c->dropped_unauthorized); break;
		case REDISC_R_DROPPED_MALFORMED: h_set_u64(r->requestvb, c->dropped_malformed); break;
		case REDISC_R_NOT_OURS: h_set_u64(r->requestvb, c->not_ours); break;
		case REDISC_R_LOGINS_MOVED: h_set_u64(r->requestvb, c->logins_moved); break;
		case REDISC_R_AVOIDED: h_set_u32(r->requestvb, ASN_GAUGE, (uint32_t)disc_login_avoid_count()); break;
		case REDISC_R_LAST: h_set_str(r->requestvb, c->last, 255); break;
		default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
		}
	}
	return SNMP_ERR_NOERROR;
}

int h_redisc_react_init(void)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (react_reg)
		return 0;
	reg = netsnmp_create_handler_registration("sanRediscReaction", react_handler, react_oid, OID_LENGTH(react_oid),
	                                          HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	rc = netsnmp_register_scalar_group(reg, REDISC_R_RECEIVED, REDISC_R_LAST);
	if (rc != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanRediscReaction (%d)", rc);
		return -EEXIST;
	}
	react_reg = reg;
	return 0;
}

void h_redisc_react_shutdown(void)
{
	if (react_reg) {
		netsnmp_unregister_handler(react_reg);
		react_reg = NULL;
	}
}
