/* stor_config.h: the storage side's config section (storage { }); the agent fills it in from its config file. */
#ifndef SA_ENGINES_STOR_CONFIG_H
#define SA_ENGINES_STOR_CONFIG_H

/* storage { }: the storage-side role next to a tgt target: its
 * portals, targets, LUNs and sessions, read and changed through tgtadm. */
struct sa_storage_config {
	int enabled;     /* the section is present */
	int tgt_control; /* tgtd's control port (tgtadm -C) */
	int interval;    /* s between reads of tgt's state */
	/* Session feedback to the name server (seed 000 steps 60, 72), sent as notifications snmpd forwards. */
	int feedback_interval;  /* s: one sanSessionFeedback per session and window; 0 = off */
	int competing_share;    /* percent of a portal's bytes in a window that makes an initiator the offender */
	int competing_min_rate; /* KiB/s: another initiator's average under it makes the group competing */
	int competing_holdoff;  /* s before the same target portal is named in another sanRediscoveryRequest */
	/* Initiator name the agent logs in to its own tgtd as, to read each LUN's INQUIRY identity (the cluster's
	 * device designator, vendor, model, size); "" or absent: not read.  The targets' ACLs must let it in. */
	char *probe_initiator;
	/* The one directory LUN backing files created over SNMP live in (sanStorLunBackingStore): the agent creates
	 * sparse files there and refuses paths outside it; "" or absent: LUNs cannot be created over SNMP. */
	char *lun_dir;
};

#endif
