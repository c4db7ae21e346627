/* storFeedback.c: sanStorFeedback, what the storage agent's feedback side sent (session feedback, requests). */
#include <config.h>

#include <errno.h>

#include "common/log.h"
#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid feedback_oid[] = {SA_OID_STOR_FEEDBACK};
static netsnmp_handler_registration *reg;

static int feedback_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                            netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct stor_fb_counters *c = stor_fb_counters();
	size_t n = OID_LENGTH(feedback_oid);

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;

		if (r->processed)
			continue;
		switch (vb->name[n]) {
		case H_SFB_SENT: h_set_u64(vb, c->feedback_sent); break;
		case H_SFB_REQUESTS: h_set_u64(vb, c->requests_sent); break;
		case H_SFB_HELD: h_set_u64(vb, c->requests_held); break;
		case H_SFB_PORTAL_UNKNOWN: h_set_u64(vb, c->portal_unknown); break;
		default: netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT); break;
		}
	}
	return SNMP_ERR_NOERROR;
}

int h_stor_feedback_init(void)
{
	netsnmp_handler_registration *r;

	if (reg)
		return 0;
	r = netsnmp_create_handler_registration("sanStorFeedback", feedback_handler, feedback_oid,
	                                        OID_LENGTH(feedback_oid), HANDLER_CAN_RONLY);
	if (!r)
		return -ENOMEM;
	if (netsnmp_register_scalar_group(r, H_SFB_SENT, H_SFB_PORTAL_UNKNOWN) != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanStorFeedback");
		return -EEXIST;
	}
	reg = r;
	return 0;
}

void h_stor_feedback_shutdown(void)
{
	if (reg)
		netsnmp_unregister_handler(reg);
	reg = NULL;
}
