/* dispatch.h: engines subscribe to incoming notifications by OID on the event bus (no net-snmp types here). */
#ifndef SA_TRAPS_DISPATCH_H
#define SA_TRAPS_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/trap.h"

typedef void (*sa_trap_cb)(const struct cm_trap *trap, void *arg);

/* Registers cb for notifications whose snmpTrapOID equals oid (or lies under
 * it when prefix is non-zero).  Returns a handle > 0 or -errno. */
int sa_trap_subscribe(const uint32_t *oid, size_t oid_len, int prefix, sa_trap_cb cb, void *arg);
void sa_trap_unsubscribe(int handle);

/* Called by the receiver for every accepted notification. Returns callbacks run. */
int sa_trap_dispatch(const struct cm_trap *trap);

#endif
