/* receiver.h: the incoming SNMP notification receiver and its counters. */
#ifndef SA_TRAPS_RECEIVER_H
#define SA_TRAPS_RECEIVER_H

#include <stdint.h>

#include "common/trap.h"
#include "subagent/config.h"

/* Starts (or restarts with the new settings) the receiver described by cfg;
 * stops it when cfg->trap_enabled is 0.  Returns 0 or -errno. */
int sa_trap_receiver_apply(const struct sa_config *cfg, char *err, size_t errlen);
void sa_trap_receiver_stop(void);
const struct sa_trap_counters *sa_trap_receiver_counters(void);

#endif
