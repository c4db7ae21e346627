/* engine.h: the balance engine: multipath teams run by nbdkit-sanpath processes, watched through their shm segments. */
#ifndef BAL_ENGINE_H
#define BAL_ENGINE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "iscsi/sp_shares.h"
#include "engines/registry.h"
#include "iscsi/login_result.h"

#define BAL_NAME_MAX 63
#define BAL_TARGET_MAX 223
#define BAL_PORTAL_MAX 71
#define BAL_IFACE_MAX 23
#define BAL_CHAP_MAX 255

/* Team states as published in sanTeamState. */
enum bal_team_state {
	BAL_TEAM_OPTIMAL = 1,  /* every path in service */
	BAL_TEAM_DEGRADED = 2, /* some path out of service */
	BAL_TEAM_FAILED = 3,   /* no path */
	BAL_TEAM_DOWN = 4,     /* no live data plane: starting, restarting, or its process is gone */
};

/* Path states: the data plane's enum sp_path_state + 1, and unknown when
 * no live data plane publishes them (a stale segment is never shown live). */
enum bal_path_state {
	BAL_PATH_IDLE = 1,
	BAL_PATH_CONNECTING = 2,
	BAL_PATH_STANDBY = 3,
	BAL_PATH_ACTIVE = 4,
	BAL_PATH_DOWN = 5,
	BAL_PATH_REFUSED = 6,
	BAL_PATH_UNKNOWN = 7,
	/* The data plane's SP_PATH_SUSPECT (6): logged in, not answering for
	 * longer than its threshold, taking no new commands. */
	BAL_PATH_SUSPECT = 8,
	/* Taken out of the team (bal_path_remove): drained and logged out; not
	 * shown in the path table, its index never reused. */
	BAL_PATH_REMOVED = 9,
};

/* Why a verified path stands by (sanPathHoldReason): the data plane's enum sp_hold + 1. */
enum bal_hold { BAL_HOLD_NONE = 1, BAL_HOLD_MANUAL = 2, BAL_HOLD_DELAY = 3, BAL_HOLD_FLAP = 4 };

/* Failback policy (sanTeamFailback): the data plane's enum sp_failback. */
enum bal_failback { BAL_FAILBACK_IMMEDIATE = 1, BAL_FAILBACK_MANUAL = 2, BAL_FAILBACK_DELAYED = 3 };
#define BAL_FAILBACK_HOLD_MAX 86400u
#define BAL_FLAP_COUNT_MAX 8u /* the data plane remembers the last 8 failures of a path */
#define BAL_FLAP_WINDOW_MAX 86400u

/* What happened to the last control change written to the data plane. */
enum bal_ctl_status {
	BAL_CTL_APPLIED = 1,
	BAL_CTL_PENDING = 2,  /* written, the data plane has not acknowledged it yet (or is not running) */
	BAL_CTL_REJECTED = 3, /* the data plane refused it; ctl_result says why */
};

enum bal_origin { BAL_FROM_CONFIG = 1, BAL_FROM_SNMP = 2 };

/* The operator's settings of a team: what the control block is set to. */
struct bal_ctl {
	int mode; /* enum sp_mode */
	int algo; /* enum sp_algo */
	struct sp_lb_dynamic dyn;
	unsigned int share[2][SP_MAX_PATHS]; /* per direction, each direction sums to 100 */
	/* Failback of a recovered path: enum bal_failback, the delay (delayed),
	 * and flap damping: flap_count failures (0: off) within flap_window_s
	 * hold the path in standby until it stayed healthy flap_hold_s. */
	int failback;
	unsigned int failback_hold_s, flap_count, flap_window_s, flap_hold_s;
};
/* The data plane's defaults: immediate, 5 s, 3 failures in 30 s, held 10 s. */
void bal_ctl_failback_defaults(struct bal_ctl *c);

struct bal_path_spec {
	char portal[BAL_PORTAL_MAX + 1]; /* numeric "ADDR:PORT" or "[V6]:PORT" */
	char iface[BAL_IFACE_MAX + 1];
	int removed; /* bal_path_remove(): its index stays taken, nothing else of it counts */
};

/* CHAP for every path's login (user "" = none).  The data plane gets the
 * secrets through a 0600 file in run_dir, never on its command line, and
 * nothing logs them. */
struct bal_chap {
	char user[BAL_CHAP_MAX + 1];
	char secret[BAL_CHAP_MAX + 1];
	char target_user[BAL_CHAP_MAX + 1]; /* mutual CHAP: the target's name and secret, "" = none */
	char target_secret[BAL_CHAP_MAX + 1];
};

/* A team definition, from the config or from SNMP (or a login row). */
struct bal_team_spec {
	char name[BAL_NAME_MAX + 1];
	char target[BAL_TARGET_MAX + 1];
	char initiator[BAL_TARGET_MAX + 1]; /* InitiatorName, "" = the data plane's default */
	struct bal_chap chap;
	unsigned int lun;
	unsigned int npaths;
	struct bal_path_spec path[SP_MAX_PATHS];
	struct bal_ctl ctl;
	/* Suspect handling for the data plane, from the config team; 0 in all
	 * three (teams made over SNMP): the data plane's defaults. */
	unsigned int suspect_off, suspect_k, suspect_floor_ms;
};

/* Live values of one path, refreshed from the shm segment every poll. */
struct bal_path_live {
	int state;              /* enum bal_path_state */
	int role;               /* 1 primary, 2 secondary, 0 unknown */
	unsigned int share[2];  /* shares in force in the data plane (dynamic LB moves them) */
	unsigned int actual[2]; /* measured split, percent */
	uint64_t bytes[2], cmds[2], errors;
	time_t last_change; /* 0: never */
	unsigned int avg_latency_us;
	unsigned int max_latency_us; /* over the last report interval */
	/* The session behind the path, for sanSessionTable and login results. */
	int login_result;          /* enum sp_login_result of the last login attempt */
	unsigned int login_status; /* its iSCSI Status-Class << 8 | Status-Detail, 0 when none came */
	time_t login_time;         /* when the current session logged in, 0: not logged in */
	unsigned char isid[6];
	unsigned int tsih; /* 0: unknown */
	char src_addr[48]; /* numeric local address of the connection, "" when none */
	unsigned int src_port;
	uint64_t digest_errors, timeout_errors;
	int admin_down; /* logged out by bal_path_logout(): not reconnected */
	int hold;       /* enum bal_hold */
	unsigned int dampings;
	char last_error[160]; /* why it last failed or was refused (a different LU, ...) */
};

struct bal_eng_team {
	unsigned int index; /* stable, never reused while the agent runs */
	int origin;         /* enum bal_origin */
	int nonvolatile;    /* SNMP-created and persisted */
	struct bal_team_spec spec;
	int state; /* enum bal_team_state */
	uint64_t total_bytes[2];
	struct bal_path_live live[SP_MAX_PATHS];
	char sock[108]; /* the NBD export: nbd+unix:///?socket=sock */
	int ctl_status; /* enum bal_ctl_status */
	int ctl_result; /* 0 or -errno from the data plane */
	pid_t pid;      /* data plane process, 0 when none */
	/* engine-private bookkeeping follows in engine.c */
	struct bal_team_priv *priv;
};

/* Events published on BUS_BALANCE (common/bus.h) for handlers, notifications
 * and other engines.  path is 1-based (0: none). */
enum bal_event_type {
	BAL_EV_TEAM_ADDED = 1,
	BAL_EV_TEAM_REMOVED, /* sent before the team is freed */
	BAL_EV_PATH_DOWN,
	BAL_EV_PATH_UP,
	BAL_EV_FAILOVER, /* path: the one that took over */
	BAL_EV_TEAM_STATE,
	BAL_EV_SHARES_CHANGED, /* the data plane moved the shares (dynamic LB) */
	BAL_EV_PATH_DAMPED,    /* a flapping path is held back (flap damping) */
};

struct bal_event {
	int type;
	unsigned int team;
	unsigned int path;
	int state; /* TEAM_STATE: the new state */
};

extern const struct sa_engine_ops bal_engine_ops;

/* Teams in index order: bal_team_next(0) is the first, 0 ends. */
unsigned int bal_team_next(unsigned int after);
struct bal_eng_team *bal_team_get(unsigned int index);
struct bal_eng_team *bal_team_find(const char *name);
/* The lowest index above every index handed out so far (sanTeamNextIndex). */
unsigned int bal_next_index(void);
int bal_running(void); /* the engine is started */

/* Control changes (mode, algorithm, dynamic parameters, shares): validate
 * the whole result first, then apply it in one write to the data plane.
 * bal_validate_ctl: 0, or -EINVAL (a value out of range) or -EDOM (shares
 * of a direction do not sum to 100).  bal_set_ctl persists an SNMP-created
 * team's new settings before it applies them: on error nothing changed. */
int bal_validate_ctl(const struct bal_eng_team *t, const struct bal_ctl *c);
int bal_set_ctl(unsigned int index, const struct bal_ctl *c);

/* Team rows over SNMP.  bal_validate_spec checks a new team (names,
 * portals, shares, uniqueness) and says why not in why. */
int bal_validate_spec(const struct bal_team_spec *s, unsigned int index, char *why, size_t whylen);
int bal_team_create(unsigned int index, const struct bal_team_spec *s, int nonvolatile);
int bal_team_destroy(unsigned int index); /* -EPERM for a team from the config */
int bal_team_validate_destroy(unsigned int index);

/* Which targets this host may use is decided elsewhere (a cluster's ownership table); subagent/ plugs it in.
 * may_use: 0 or -EACCES; refused (optional) is told of each refusal.  Without ops every target may be used. */
struct bal_access_ops {
	int (*may_use)(const char *target, unsigned int lun);
	void (*refused)(const char *target);
};
void bal_access_ops_register(const struct bal_access_ops *ops);
/* 0, or -EACCES (why filled) when a team to s's target must not be made; bal_team_create checks it too. */
int bal_check_access(const struct bal_team_spec *s, char *why, size_t whylen);

/* Logs one path (1-based) out and keeps it out of service until
 * bal_path_login(); the team's other paths carry on.  The data plane applies
 * it asynchronously; live.admin_down shows it at once. -ENOENT, -ENODEV. */
int bal_path_logout(unsigned int team, unsigned int path);
int bal_path_login(unsigned int team, unsigned int path);
/* Path (1-based) logs in at portal from now on: the same LU at another
 * address (its target moved).  Kept in the spec (persisted for an
 * SNMP-created team) and written to the data plane's control block.
 * -ENOENT (team), -ENODEV (path), -EINVAL (portal), or a state error. */
int bal_path_set_portal(unsigned int team, unsigned int path, const char *portal);

/* Paths of a running team created over SNMP (a config team's paths are
 * the config's).  bal_path_add puts a path at index path (1-based, the
 * team's next: bal_team_next_path); it joins only once the data plane has
 * checked it reaches the team's LU (VPD 0x83), otherwise its live values
 * say why (state refused, login result, last error).  bal_path_remove takes
 * one out: it takes no new commands, its commands in flight finish, then it
 * logs out; its index is never reused.  Both share the team's reads and
 * writes equally among the paths left.  -ENOENT (team), -ENODEV (path),
 * -EPERM (config team), -EINVAL (portal), -ENOSPC (16 indexes used),
 * -EBUSY (the last path). */
int bal_path_validate_add(unsigned int team, unsigned int path, const struct bal_path_spec *ps, char *why,
                          size_t whylen);
int bal_path_add(unsigned int team, unsigned int path, const struct bal_path_spec *ps);
int bal_path_validate_remove(unsigned int team, unsigned int path);
int bal_path_remove(unsigned int team, unsigned int path);
unsigned int bal_team_next_path(const struct bal_eng_team *t); /* 0: none left */
/* Releases the team's paths held in standby by manual failback (or a delay). */
int bal_team_failback(unsigned int team);

/* Parses "ADDR:PORT" / "[V6]:PORT" into an address family (4 or 6),
 * 4 or 16 address bytes and a port.  Returns 0 or -EINVAL. */
int bal_parse_portal(const char *portal, int *family, unsigned char addr[16], unsigned int *port);
/* Names of enums for logs and the command line. */
const char *bal_mode_name(int mode);
const char *bal_algo_name(int algo);

#endif
