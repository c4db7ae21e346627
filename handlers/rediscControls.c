/* rediscControls.c: sanRediscControls, the manual trigger: a portal, an offender, and go. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/rediscover/rediscover.h"
#include "handlers/redisc.h"
#include "handlers/table.h"
#include "common/log.h"

static const oid controls_oid[] = {REDISC_OID_CONTROLS};
static netsnmp_handler_registration *controls_reg;

enum { TRIGGER_IDLE = 1, TRIGGER_GO = 2 };

/* What the objects read: the values the last SET left (volatile). */
struct trigger_args {
	char target[REDISC_NAME_MAX];
	char offender[REDISC_NAME_MAX];
	struct redisc_addr portal;
	size_t alen; /* octets of the address as set: its type must agree */
};
static struct trigger_args controls;

/* One per request (net-snmp may hand a PDU's varbinds to the handler in
 * several calls): RESERVE1 collects, RESERVE2 judges the whole, COMMIT
 * triggers once. */
struct controls_txn {
	struct trigger_args old, want;
	int go;
	int checked, stored, triggered;
};
#define CONTROLS_TXN "sanRediscControls:txn"

static int controls_get(unsigned int which, netsnmp_variable_list *vb)
{
	switch (which) {
	case REDISC_T_TARGET: h_set_str(vb, controls.target, REDISC_NAME_MAX - 1); break;
	case REDISC_T_ADDR_TYPE: h_set_int(vb, controls.portal.type); break;
	case REDISC_T_ADDR: h_set_octets(vb, controls.portal.a, controls.alen); break;
	case REDISC_T_PORT: h_set_u32(vb, ASN_UNSIGNED, controls.portal.port); break;
	case REDISC_T_OFFENDER: h_set_str(vb, controls.offender, REDISC_NAME_MAX - 1); break;
	case REDISC_T_TRIGGER: h_set_int(vb, TRIGGER_IDLE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

/* RESERVE1, per varbind: type, length, range; then into the wanted arguments. */
static int controls_check(unsigned int which, const netsnmp_variable_list *vb, struct controls_txn *t)
{
	int rc;

	switch (which) {
	case REDISC_T_TARGET:
	case REDISC_T_OFFENDER:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, REDISC_NAME_MAX - 1)) !=
		    SNMP_ERR_NOERROR)
			return rc;
		if (!h_utf8_valid(vb->val.string, vb->val_len))
			return SNMP_ERR_WRONGVALUE;
		h_put_str(which == REDISC_T_TARGET ? t->want.target : t->want.offender, REDISC_NAME_MAX, vb);
		return SNMP_ERR_NOERROR;
	case REDISC_T_ADDR_TYPE:
		if ((rc = netsnmp_check_vb_int_range(vb, 0, 2)) != SNMP_ERR_NOERROR)
			return rc;
		t->want.portal.type = (int)*vb->val.integer;
		return SNMP_ERR_NOERROR;
	case REDISC_T_ADDR:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, 16)) != SNMP_ERR_NOERROR)
			return rc;
		if (vb->val_len != 0 && vb->val_len != 4 && vb->val_len != 16)
			return SNMP_ERR_WRONGLENGTH;
		memset(t->want.portal.a, 0, sizeof(t->want.portal.a));
		memcpy(t->want.portal.a, vb->val.string, vb->val_len);
		t->want.alen = vb->val_len;
		return SNMP_ERR_NOERROR;
	case REDISC_T_PORT:
		if ((rc = netsnmp_check_vb_uint(vb)) != SNMP_ERR_NOERROR)
			return rc;
		if (*vb->val.integer > 65535)
			return SNMP_ERR_WRONGVALUE;
		t->want.portal.port = (uint16_t)*vb->val.integer;
		return SNMP_ERR_NOERROR;
	case REDISC_T_TRIGGER:
		if ((rc = netsnmp_check_vb_int_range(vb, TRIGGER_IDLE, TRIGGER_GO)) != SNMP_ERR_NOERROR)
			return rc;
		t->go = *vb->val.integer == TRIGGER_GO;
		return SNMP_ERR_NOERROR;
	default: return SNMP_ERR_NOTWRITABLE;
	}
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
			if (!r->processed && (rc = controls_get((unsigned int)r->requestvb->name[n], r->requestvb)))
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
		if (fresh)
			t->old = t->want = controls;
		for (r = requests; r; r = r->next) {
			rc = controls_check((unsigned int)r->requestvb->name[n], r->requestvb, t);
			if (rc != SNMP_ERR_NOERROR) {
				netsnmp_set_request_error(reqinfo, r, rc);
				return SNMP_ERR_NOERROR;
			}
		}
		break;
	case MODE_SET_RESERVE2:
		if (!t || t->checked)
			break;
		t->checked = 1;
		/* The address must fit its type before anything is decided with it. */
		if (t->want.alen != (t->want.portal.type == 1 ? 4u : t->want.portal.type == 2 ? 16u : 0u)) {
			netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_INCONSISTENTVALUE);
			break;
		}
		/* go: the engine says now whether a decision may be taken (cooldowns, cap, mode). */
		if (t->go && (rc = h_table_err(redisc_trigger_check(t->want.target, &t->want.portal, t->want.offender),
		                               H_PHASE_CHECK)) != SNMP_ERR_NOERROR)
			netsnmp_set_request_error(reqinfo, requests, rc);
		break;
	case MODE_SET_ACTION:
		if (t && !t->stored) {
			controls = t->want;
			t->stored = 1;
		}
		break;
	case MODE_SET_UNDO:
		if (t && t->stored) {
			controls = t->old;
			t->stored = 0;
		}
		break;
	case MODE_SET_COMMIT:
		/* A decision cannot be undone: it waits until every varbind succeeded. */
		if (!t || !t->go || t->triggered)
			break;
		t->triggered = 1;
		if ((rc = redisc_trigger(controls.target, &controls.portal, controls.offender)) < 0)
			sa_log(SA_LOG_WARNING, "handlers", "manual rediscovery trigger for %s not taken: %s",
			       controls.target, strerror(-rc));
		break;
	default: break;
	}
	return SNMP_ERR_NOERROR;
}

int h_redisc_controls_init(void)
{
	netsnmp_handler_registration *reg;

	if (controls_reg)
		return 0;
	reg = netsnmp_create_handler_registration("sanRediscControls", controls_handler, controls_oid,
	                                          OID_LENGTH(controls_oid), HANDLER_CAN_RWRITE);
	if (!reg)
		return -ENOMEM;
	if (netsnmp_register_scalar_group(reg, REDISC_T_TARGET, REDISC_T_TRIGGER) != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanRediscControls");
		return -EEXIST;
	}
	controls_reg = reg;
	return 0;
}

void h_redisc_controls_shutdown(void)
{
	if (controls_reg)
		netsnmp_unregister_handler(controls_reg);
	controls_reg = NULL;
}
