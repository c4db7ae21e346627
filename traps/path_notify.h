/* path_notify.h: SANAGENT-PATH-MIB notifications, driven by the balance engine's events. */
#ifndef SA_TRAPS_PATH_NOTIFY_H
#define SA_TRAPS_PATH_NOTIFY_H

/* Subscribes to the balance engine's events (called by h_path_init()). */
void sa_path_notify_init(void);
void sa_path_notify_shutdown(void);

#endif
