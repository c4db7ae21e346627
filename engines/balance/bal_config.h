/* bal_config.h: the balance engine's config section (balance { }); the agent fills it in from its config file. */
#ifndef SA_ENGINES_BAL_CONFIG_H
#define SA_ENGINES_BAL_CONFIG_H

#include <stddef.h>

/* balance { teams = ( { paths = ( ... ) } ) }: one path of a team. */
struct sa_bal_path_cfg {
	char *portal;                /* "ADDR:PORT" */
	char *iface;                 /* source interface, "" = any */
	int share_read, share_write; /* percent; all 0 in a direction = equal shares */
};

/* A multipath team to one LU, run by an nbdkit-sanpath process. */
struct sa_bal_team_cfg {
	char *name;
	char *target;
	int lun;
	char *mode; /* "failover", "lb" */
	char *algo; /* "static", "dynamic", "round-robin", "queue-length", "service-time" */
	int timer_interval_ms;
	int change_threshold;
	int lb_change;
	/* Suspect handling in the data plane (sp_team_opts): on (1) or off (0),
	 * threshold max(suspect_k x the path's p99, suspect_floor_ms). */
	int suspect, suspect_k, suspect_floor_ms;
	/* Failback of a recovered path ("immediate", "manual", "delayed"), its
	 * delay, and flap damping (failures, window, hold), in seconds. */
	char *failback;
	int failback_hold, flap_count, flap_window, flap_hold;
	struct sa_bal_path_cfg *paths;
	size_t npaths;
};

struct sa_balance_config {
	/* The config file the section came from, for messages; not a key (the
	 * loader points it at its own copy of the path, so it is never freed here). */
	const char *source;
	char *run_dir;      /* unix sockets, shm segments and data-plane logs */
	char *nbdkit;       /* nbdkit executable (PATH is searched) */
	char *plugin;       /* nbdkit-sanpath-plugin.so */
	char **plugin_args; /* extra KEY=VALUE parameters for every team's plug-in */
	size_t nplugin_args;
	int poll_interval_ms;
	int shares_notify_interval; /* s between sanTeamSharesChanged of one team */
	struct sa_bal_team_cfg *teams;
	size_t nteams;
};

#endif
