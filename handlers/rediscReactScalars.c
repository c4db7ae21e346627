/* rediscReactScalars.c: sanRediscReaction, what this agent as an initiator did with the rediscovery messages it got. */
#include <config.h>

#include <stdint.h>

#include "engines/discovery/login.h"
#include "engines/discovery/readdress.h"
#include "engines/rediscover/redisc_mib.h"
#include "handlers/redisc.h"
#include "handlers/scalars.h"

static const oid react_oid[] = {REDISC_OID_REACTION};

static const struct h_column react_objs[] = {
    H_SCALAR_RO(REDISC_R_RECEIVED),
    H_SCALAR_RO(REDISC_R_TYPE1),
    H_SCALAR_RO(REDISC_R_TYPE2),
    H_SCALAR_RO(REDISC_R_DROPPED_UNAUTHORIZED),
    H_SCALAR_RO(REDISC_R_DROPPED_MALFORMED),
    H_SCALAR_RO(REDISC_R_NOT_OURS),
    H_SCALAR_RO(REDISC_R_LOGINS_MOVED),
    H_SCALAR_RO(REDISC_R_AVOIDED),
    H_SCALAR_RO(REDISC_R_LAST),
};

static int react_get(unsigned int sub, netsnmp_variable_list *vb)
{
	const struct disc_redisc_counters *c = disc_readdress_counters();

	switch (sub) {
	case REDISC_R_RECEIVED: h_set_u64(vb, c->received); break;
	case REDISC_R_TYPE1: h_set_u64(vb, c->type1); break;
	case REDISC_R_TYPE2: h_set_u64(vb, c->type2); break;
	case REDISC_R_DROPPED_UNAUTHORIZED: h_set_u64(vb, c->dropped_unauthorized); break;
	case REDISC_R_DROPPED_MALFORMED: h_set_u64(vb, c->dropped_malformed); break;
	case REDISC_R_NOT_OURS: h_set_u64(vb, c->not_ours); break;
	case REDISC_R_LOGINS_MOVED: h_set_u64(vb, c->logins_moved); break;
	case REDISC_R_AVOIDED: h_set_u32(vb, ASN_GAUGE, (uint32_t)disc_login_avoid_count()); break;
	case REDISC_R_LAST: h_set_str(vb, c->last, 255); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops react_ops = {.get = react_get};
static struct h_scalar_group react = {
    .name = "sanRediscReaction",
    .root = react_oid,
    .root_len = OID_LENGTH(react_oid),
    .objs = react_objs,
    .nobjs = sizeof(react_objs) / sizeof(react_objs[0]),
    .ops = &react_ops,
};

int h_redisc_react_init(void)
{
	return h_scalar_register(&react);
}

void h_redisc_react_shutdown(void)
{
	h_scalar_unregister(&react);
}
