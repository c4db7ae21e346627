/* trapCounters.c: the sanTrapRecv Counter64 scalars, read live from the trap receiver. */
#include <config.h>

#include "handlers/handlers.h"
#include "handlers/scalars.h"

static const oid traprecv_oid[] = {SA_OID_TRAPRECV};

static const struct h_column traprecv_objs[] = {
    H_SCALAR_RO(H_TRAPRECV_RECEIVED),
    H_SCALAR_RO(H_TRAPRECV_ACCEPTED),
    H_SCALAR_RO(H_TRAPRECV_DROPPED_UNAUTH),
    H_SCALAR_RO(H_TRAPRECV_DROPPED_MALFORMED),
};

static int traprecv_get(unsigned int sub, netsnmp_variable_list *vb)
{
	static const struct cm_trap_counters zero;
	const struct cm_trap_counters *c = h_agent->trap_counters();

	/* The receiver may be off (no trap_receiver section): counters then
	 * read as zero rather than vanishing from the MIB. */
	if (!c)
		c = &zero;
	switch (sub) {
	case H_TRAPRECV_RECEIVED: h_set_u64(vb, c->received); break;
	case H_TRAPRECV_ACCEPTED: h_set_u64(vb, c->accepted); break;
	case H_TRAPRECV_DROPPED_UNAUTH: h_set_u64(vb, c->dropped_unauth); break;
	case H_TRAPRECV_DROPPED_MALFORMED: h_set_u64(vb, c->dropped_malformed); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops traprecv_ops = {.get = traprecv_get};
static struct h_scalar_group traprecv = {
    .name = "sanTrapRecv",
    .root = traprecv_oid,
    .root_len = OID_LENGTH(traprecv_oid),
    .objs = traprecv_objs,
    .nobjs = sizeof(traprecv_objs) / sizeof(traprecv_objs[0]),
    .ops = &traprecv_ops,
};

int h_trap_counters_init(void)
{
	return h_scalar_register(&traprecv);
}

void h_trap_counters_shutdown(void)
{
	h_scalar_unregister(&traprecv);
}
