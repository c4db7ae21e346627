/* dispatch.c: accepted notifications go out on the event bus, keyed by their snmpTrapOID. */
#include "traps/dispatch.h"

#include <errno.h>
#include <stdlib.h>

#include "common/array.h"
#include "common/bus.h"

/* Same bound as net-snmp's MAX_OID_LEN, without including net-snmp. */
#define SA_DISPATCH_MAX_OID 128

struct sa_trap_sub {
	sa_trap_cb cb;
	void *arg;
};

/* The bus hands every subscriber the same (topic, event, arg) shape; this
 * adapter gives trap callbacks their typed signature back. */
static void sa_trap_adapt(int topic, const void *event, void *arg)
{
	const struct sa_trap_sub *s = arg;

	(void)topic;
	s->cb(event, s->arg);
}

/* Subscriptions are few (one per engine interest): a small heap record per
 * subscription, found again by handle at unsubscribe. */
static struct sa_trap_reg {
	int handle;
	struct sa_trap_sub *sub;
} * regs;
static size_t nregs, capregs;

int sa_trap_subscribe(const uint32_t *oid, size_t oid_len, int prefix, sa_trap_cb cb, void *arg)
{
	struct sa_trap_sub *s;
	int h;

	if (!cb || oid_len > SA_DISPATCH_MAX_OID || (oid_len && !oid))
		return -EINVAL;
	/* An empty exact OID can never match; an empty prefix means "all". */
	if (!oid_len && !prefix)
		return -EINVAL;
	if (cm_grow(&regs, &capregs, nregs, sizeof(*regs), 8) < 0)
		return -ENOMEM;
	if (!(s = malloc(sizeof(*s))))
		return -ENOMEM;
	s->cb = cb;
	s->arg = arg;
	if ((h = bus_subscribe_key(BUS_TRAP, oid, oid_len, prefix, sa_trap_adapt, s)) < 0) {
		free(s);
		return h;
	}
	regs[nregs++] = (struct sa_trap_reg){.handle = h, .sub = s};
	return h;
}

void sa_trap_unsubscribe(int handle)
{
	for (size_t i = 0; i < nregs; i++) {
		if (regs[i].handle != handle)
			continue;
		bus_unsubscribe(handle);
		/* The bus never calls an entry again once it is unsubscribed,
		 * even from inside a publish, so the record can go now. */
		free(regs[i].sub);
		regs[i] = regs[--nregs];
		return;
	}
}

int sa_trap_dispatch(const struct cm_trap *trap)
{
	if (!trap || (trap->trap_oid_len && !trap->trap_oid))
		return -EINVAL;
	return bus_publish_key(BUS_TRAP, trap->trap_oid, trap->trap_oid_len, trap);
}
