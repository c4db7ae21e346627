/* storFeedback.c: sanStorFeedback, what the storage agent's feedback side sent (session feedback, requests). */
#include <config.h>

#include "handlers/scalars.h"
#include "handlers/storTables.h"

static const oid feedback_oid[] = {SA_OID_STOR_FEEDBACK};

static const struct h_column feedback_objs[] = {
    H_SCALAR_RO(H_SFB_SENT),
    H_SCALAR_RO(H_SFB_REQUESTS),
    H_SCALAR_RO(H_SFB_HELD),
    H_SCALAR_RO(H_SFB_PORTAL_UNKNOWN),
};

static int feedback_get(unsigned int sub, netsnmp_variable_list *vb)
{
	const struct stor_fb_counters *c = stor_fb_counters();

	switch (sub) {
	case H_SFB_SENT: h_set_u64(vb, c->feedback_sent); break;
	case H_SFB_REQUESTS: h_set_u64(vb, c->requests_sent); break;
	case H_SFB_HELD: h_set_u64(vb, c->requests_held); break;
	case H_SFB_PORTAL_UNKNOWN: h_set_u64(vb, c->portal_unknown); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops feedback_ops = {.get = feedback_get};
static struct h_scalar_group feedback = {
    .name = "sanStorFeedback",
    .root = feedback_oid,
    .root_len = OID_LENGTH(feedback_oid),
    .objs = feedback_objs,
    .nobjs = sizeof(feedback_objs) / sizeof(feedback_objs[0]),
    .ops = &feedback_ops,
};

int h_stor_feedback_init(void)
{
	return h_scalar_register(&feedback);
}

void h_stor_feedback_shutdown(void)
{
	h_scalar_unregister(&feedback);
}
