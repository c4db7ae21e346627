/* notify.h: the agent's own outgoing notifications. */
#ifndef SA_TRAPS_NOTIFY_H
#define SA_TRAPS_NOTIFY_H

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
