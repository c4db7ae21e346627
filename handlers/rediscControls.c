/* rediscControls.c: sanRediscControls, the manual trigger: a portal, an offender, and go. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "engines/rediscover/rediscover.h"
#include "handlers/redisc.h"
#include "handlers/scalars.h"

static const oid controls_oid[] = {REDISC_OID_CONTROLS};

enum { TRIGGER_IDLE = 1, TRIGGER_GO = 2 };

static const struct h_column trigger_objs[] = {
    {REDISC_T_TARGET, H_RW, H_SYN_ADMIN_STRING, 0, 0, REDISC_NAME_MAX - 1},
    {REDISC_T_ADDR_TYPE, H_RW, H_SYN_INT, 0, 0, 2},
    {REDISC_T_ADDR, H_RW, H_SYN_INET_ADDR, H_COL_EMPTY_OK, 0, 16},
    {REDISC_T_PORT, H_RW, H_SYN_UINT, 0, 0, 65535},
    {REDISC_T_OFFENDER, H_RW, H_SYN_ADMIN_STRING, 0, 0, REDISC_NAME_MAX - 1},
    {REDISC_T_TRIGGER, H_RW, H_SYN_INT, 0, TRIGGER_IDLE, TRIGGER_GO},
};

/* What the objects read: the values the last SET left (volatile). */
struct trigger_args {
	char target[REDISC_NAME_MAX];
	char offender[REDISC_NAME_MAX];
	struct redisc_addr portal;
	size_t alen; /* octets of the address as set: its type must agree */
};
static struct trigger_args controls;

struct controls_image {
	struct trigger_args a;
	int go;
};

static int trigger_get(unsigned int sub, netsnmp_variable_list *vb)
{
	switch (sub) {
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

static void trigger_load(void *image)
{
	((struct controls_image *)image)->a = controls;
}

static int trigger_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	struct controls_image *w = image;

	switch (sub) {
	case REDISC_T_TARGET: return h_put_str(w->a.target, REDISC_NAME_MAX, vb);
	case REDISC_T_OFFENDER: return h_put_str(w->a.offender, REDISC_NAME_MAX, vb);
	case REDISC_T_ADDR_TYPE: return h_put_int(&w->a.portal.type, vb);
	case REDISC_T_ADDR:
		memset(w->a.portal.a, 0, sizeof(w->a.portal.a));
		return h_put_octets(w->a.portal.a, &w->a.alen, sizeof(w->a.portal.a), vb);
	case REDISC_T_PORT: return h_put_u16(&w->a.portal.port, vb);
	case REDISC_T_TRIGGER: w->go = *vb->val.integer == TRIGGER_GO; return 1;
	default: return 0;
	}
}

static int trigger_check(struct h_scalar_txn *x)
{
	const struct controls_image *w = x->work;

	/* The address must fit its type before anything is decided with it. */
	if (w->a.alen != (w->a.portal.type == 1 ? 4u : w->a.portal.type == 2 ? 16u : 0u)) {
		x->blame = h_scalar_named(x, REDISC_T_ADDR) ? REDISC_T_ADDR : REDISC_T_ADDR_TYPE;
		return -EDOM;
	}
	/* go: the engine says now whether a decision may be taken (cooldowns, cap, mode). */
	x->blame = REDISC_T_TRIGGER;
	return w->go ? redisc_trigger_check(w->a.target, &w->a.portal, w->a.offender) : 0;
}

static int trigger_apply(struct h_scalar_txn *x)
{
	controls = ((const struct controls_image *)x->work)->a;
	return 0;
}

static int trigger_undo(struct h_scalar_txn *x)
{
	controls = ((const struct controls_image *)x->old)->a;
	return 0;
}

/* A decision cannot be undone: it waits until every varbind succeeded. */
static void trigger_commit(struct h_scalar_txn *x)
{
	int rc;

	if (((const struct controls_image *)x->work)->go &&
	    (rc = redisc_trigger(controls.target, &controls.portal, controls.offender)) < 0)
		cm_log(CM_LOG_WARNING, "handlers", "manual rediscovery trigger for %s not taken: %s", controls.target,
		       strerror(-rc));
}

static const struct h_scalar_ops trigger_ops = {
    .get = trigger_get,
    .load = trigger_load,
    .store = trigger_store,
    .check = trigger_check,
    .apply = trigger_apply,
    .undo = trigger_undo,
    .commit = trigger_commit,
};

static struct h_scalar_group trigger_group = {
    .name = "sanRediscControls",
    .root = controls_oid,
    .root_len = OID_LENGTH(controls_oid),
    .objs = trigger_objs,
    .nobjs = sizeof(trigger_objs) / sizeof(trigger_objs[0]),
    .image_size = sizeof(struct controls_image),
    .writable = 1,
    .ops = &trigger_ops,
};

int h_redisc_controls_init(void)
{
	return h_scalar_register(&trigger_group);
}

void h_redisc_controls_shutdown(void)
{
	h_scalar_unregister(&trigger_group);
}
