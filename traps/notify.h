/* notify.h: the agent's own outgoing notifications. */
#ifndef SA_TRAPS_NOTIFY_H
#define SA_TRAPS_NOTIFY_H

void sa_notify_agent_start(void);
void sa_notify_agent_stop(void);
void sa_notify_config_reloaded(void);

#endif
