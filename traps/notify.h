/* notify.h: the agent's own outgoing notifications. */
#ifndef SA_TRAPS_NOTIFY_H
#define SA_TRAPS_NOTIFY_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

/* Queues a notification (takes vars, the snmpTrapOID.0 varbind first) and
 * sends it from the agent loop, a few per turn; the log line is written
 * when it leaves.  Every sender goes through here: see notify.c for why a
 * burst must not be sent from inside the event that caused it. */
void sa_notify_send(netsnmp_variable_list *vars, int log_level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Drops what is still queued (shutdown), logging how many; sanAgentStop
 * first sends a few batches of it. */
void sa_notify_drop_queued(void);

void sa_notify_agent_start(void);
void sa_notify_agent_stop(void);
void sa_notify_config_reloaded(void);

/* A per-second budget for notifications that come in bursts (a team of
 * many paths coming up, a failed server's resources remapped): past
 * per_sec in one second they are counted, and the count is logged once the
 * second is over; the tables hold every row. */
struct sa_notify_rate {
	const char *what; /* "session", "sanResourceRemapped": for the log line */
	unsigned int per_sec;
	long second;
	unsigned int sent, dropped;
};
/* 1: send it; 0: over the budget (counted). */
int sa_notify_allow(struct sa_notify_rate *r);

#endif
