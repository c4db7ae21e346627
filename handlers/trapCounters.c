/* trapCounters.c: the sanTrapRecv Counter64 scalars, read live from the trap receiver. */
#include <config.h>

#include <errno.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/handlers.h"
#include "common/log.h"

static const oid traprecv_oid[] = {SA_OID_TRAPRECV};
static netsnmp_handler_registration *traprecv_reg;

static void set_counter64(netsnmp_variable_list *vb, uint64_t v)
{
	struct counter64 c;

	c.high = (u_long)(v >> 32);
	c.low = (u_long)(v & 0xffffffffu);
	snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
}

static int traprecv_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                            netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct sa_trap_counters *c;
	static const struct sa_trap_counters zero;
	netsnmp_request_info *r;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR; /* registered read-only */

	/* The receiver may be off (no trap_receiver section): counters then
	 * read as zero rather than vanishing from the MIB. */
	c = h_agent->trap_counters();
	if (!c)
		c = &zero;
	for (r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		/* The helpers have checked the OID is <group>.<subid>.0. */
		switch (r->requestvb->name[OID_LENGTH(traprecv_oid)]) {
		case H_TRAPRECV_RECEIVED: set_counter64(r->requestvb, c->received); break;
		case H_TRAPRECV_ACCEPTED: set_counter64(r->requestvb, c->accepted); break;
		case H_TRAPRECV_DROPPED_UNAUTH: set_counter64(r->requestvb, c->dropped_unauth); break;
		case H_TRAPRECV_DROPPED_MALFORMED: set_counter64(r->requestvb, c->dropped_malformed); break;
		default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
		}
	}
	return SNMP_ERR_NOERROR;
}

int h_trap_counters_init(void)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (traprecv_reg)
		return 0;
	reg = netsnmp_create_handler_registration("sanTrapRecv", traprecv_handler, traprecv_oid,
	                                          OID_LENGTH(traprecv_oid), HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	rc = netsnmp_register_scalar_group(reg, H_TRAPRECV_RECEIVED, H_TRAPRECV_DROPPED_MALFORMED);
	if (rc != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanTrapRecv (%d)", rc);
		return -EEXIST;
	}
	traprecv_reg = reg;
	return 0;
}

void h_trap_counters_shutdown(void)
{
	if (traprecv_reg) {
		netsnmp_unregister_handler(traprecv_reg);
		traprecv_reg = NULL;
	}
}
