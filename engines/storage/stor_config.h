/* stor_config.h: the storage side's config section (storage { }); the agent fills it in from its config file. */
#ifndef SA_ENGINES_STOR_CONFIG_H
#define SA_ENGINES_STOR_CONFIG_H

/* storage { }: the storage-side role next to a tgt target: its
 * portals, targets, LUNs and sessions, read and changed through tgtadm. */
struct sa_storage_config {
	int enabled;     /* the section is present */
	int tgt_control; /* tgtd's control port (tgtadm -C) */
	int interval;    /* s between reads of tgt's state */
};

#endif
