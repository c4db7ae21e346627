/* login.h: the connection manager: CHAP credential rows and login rows, each logged-in row a data-plane team. */
#ifndef SA_DISC_LOGIN_H
#define SA_DISC_LOGIN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engines/discovery/disc_config.h"

/* Logins work with the discovery engine off, so the manager has a life of
 * its own: disc_conn_start() after the engines are applied, disc_conn_stop()
 * before they stop.  Rows are kept sorted by stable indexes that are never
 * reused while the agent runs (O(log n) lookups). */

#define DISC_CRED_STR_MAX 255 /* user names and secrets, octets */
#define DISC_LOGIN_TARGET_MAX 223
#define DISC_LOGIN_ADAPTER_MAX 47
#define DISC_LOGIN_DEFAULT_PORT 3260

/* RowStatus values as stored (same numbers as SNMPv2-TC). */
enum disc_row { DISC_ROW_ACTIVE = 1, DISC_ROW_NOT_IN_SERVICE = 2, DISC_ROW_NOT_READY = 3 };
/* A normal login is a data-plane team; an informational one (seed 001's IsInformationalSession) logs in to the
 * target, shows the result, and logs out at once: no team, nothing for applications. */
enum disc_login_kind { DISC_LOGIN_NORMAL = 1, DISC_LOGIN_INFORMATIONAL = 2 };
/* InetAddressType values the portal columns accept. */
enum disc_addr_type { DISC_ADDR_UNKNOWN = 0, DISC_ADDR_IPV4 = 1, DISC_ADDR_IPV6 = 2 };

/* A CHAP credential.  Secrets never leave the agent except towards the
 * data plane (a 0600 file) and the 0600 state file; nothing logs them. */
struct disc_cred {
	uint32_t index;
	char user[DISC_CRED_STR_MAX + 1];
	char secret[DISC_CRED_STR_MAX + 1];
	char mutual_user[DISC_CRED_STR_MAX + 1];   /* "" = the user name is what the target answers with */
	char mutual_secret[DISC_CRED_STR_MAX + 1]; /* "" = no mutual CHAP */
	int row;                                   /* enum disc_row */
	int nonvolatile;                           /* StorageType nonVolatile: kept in the state file... */
	int stored;                                /* ...once it has been active: it is there now */
	uint32_t users;                            /* login rows that name it (kept by the manager) */
};

/* The operator's part of a login row (what SNMP writes and the state keeps). */
struct disc_login_cfg {
	char target[DISC_LOGIN_TARGET_MAX + 1];
	int addr_type; /* enum disc_addr_type; unknown = every discovered portal of the target */
	unsigned char addr[16];
	size_t addr_len;                          /* 0, 4 or 16, matching addr_type */
	unsigned int port;                        /* 0 = 3260 */
	char adapter[DISC_LOGIN_ADAPTER_MAX + 1]; /* interface name, "" = any */
	uint32_t cred;                            /* sanCredIndex, 0 = no CHAP */
	unsigned int lun;
	int persistent; /* restored admin up at agent start */
	int admin;      /* SA_ADMIN_UP / SA_ADMIN_DOWN */
	int kind;       /* enum disc_login_kind; 0 reads as normal */
};

struct disc_login {
	uint32_t index;
	struct disc_login_cfg c;
	int row; /* enum disc_row */
	int nonvolatile;
	/* What the manager observed. */
	int oper;                 /* SA_OPER_UP / SA_OPER_DOWN */
	int result;               /* enum sp_login_result */
	unsigned int status_code; /* Status-Class << 8 | Status-Detail, 0 = none */
	time_t last_change;
	unsigned int team;   /* sanTeamIndex of its data-plane team, 0 = none */
	unsigned int npaths; /* paths of that team */
	int failing;         /* in a failure episode: sanLoginFailed already sent */
};

/* ---- lookups ---------------------------------------------------------------- */
const struct disc_cred *disc_cred_find(uint32_t index);
const struct disc_cred *disc_cred_next(uint32_t after); /* 0 = from the start */
uint32_t disc_cred_next_index(void);                    /* a free sanCredIndex */
const struct disc_login *disc_login_find(uint32_t index);
const struct disc_login *disc_login_next(uint32_t after);
uint32_t disc_login_next_index(void);
/* The login row whose team is team, 0 when none (sanSessionLogin). */
uint32_t disc_login_by_team(unsigned int team);
/* Bytes a secret may have (discovery.chap_secret_min/max). */
void disc_cred_secret_limits(unsigned int *min, unsigned int *max);

/* The initiator-wide default CHAP credential (seed 001's initiator CHAP shared secret): used by login rows and
 * discovery sources that name none.  0 = none. */
uint32_t disc_default_cred(void);
/* 0 or -ENOENT (no such credential). */
int disc_default_cred_check(uint32_t cred);
/* Persisted; 0 or -errno (nothing changed). */
int disc_default_cred_set(uint32_t cred);

/* ---- validation (RESERVE phases; no side effects) ------------------------- */
/* 0 or -EMSGSIZE (a secret's length outside the limits), -EINVAL (a bad
 * character), -EEXIST (mutual secret equal to the secret). */
int disc_cred_check_secret(const char *s, size_t len, int mutual);
/* Equal secrets (-EEXIST) and bad characters (-EINVAL); lengths are
 * checked when a secret is set, so a row stored under other limits stays. */
int disc_cred_validate(const struct disc_cred *c);
/* A row that may become active: user name and secret present. */
int disc_cred_complete(const struct disc_cred *c);
/* Source adapter: 0, -EADDRNOTAVAIL for a numeric address (the data plane
 * binds interfaces only: libiscsi has no source-address bind), -EINVAL for
 * a bad interface name. */
int disc_login_check_adapter(const char *s, size_t len);
int disc_login_check_target(const char *s, size_t len);
/* The whole row: -EINVAL with why filled when it cannot be active; -EACCES when it asks to be logged in (admin
 * up) to a target this host may not use (disc_access_ops). */
int disc_login_validate(const struct disc_login_cfg *c, char *why, size_t whylen);

/* ---- verbs: persist first, apply second; on error nothing changed ------- */
/* Creates or replaces a row.  Replacing a credential that logins use logs
 * those logins in again with the new secrets. */
int disc_cred_put(const struct disc_cred *c);
int disc_cred_delete(uint32_t index); /* -EBUSY while a login uses it */
/* Creates or replaces a login row; an active row with admin up is logged
 * in (its team created, or re-created when what it logs in to changed);
 * otherwise its team is destroyed (logout).  o only reads index, c, row
 * and nonvolatile. */
int disc_login_put(const struct disc_login *o);
int disc_login_delete(uint32_t index);

/* ---- events ------------------------------------------------------------------- */
/* Published on BUS_LOGIN (common/bus.h), synchronously. */
enum disc_login_event_type {
	DISC_LOGIN_EV_FAILED = 1, /* a = login row: once per failure episode */
	DISC_LOGIN_EV_CHANGED,    /* a = login row: oper status or result changed */
	DISC_LOGIN_EV_ADDED,      /* a = login row, after it was inserted */
	DISC_LOGIN_EV_REMOVED,    /* a = login row, before it is freed */
	DISC_CRED_EV_ADDED,       /* a = credential row */
	DISC_CRED_EV_REMOVED,
};
struct disc_login_event {
	int type;
	uint32_t a;
};

/* ---- the data plane -------------------------------------------------------------- */
/* A logged-in row is a data-plane team.  The manager asks for it in its own
 * terms; subagent/core.c plugs in the ops that make it a balance-engine team
 * (engines meet there and on the bus, never through each other's headers). */
#define DISC_TEAM_MAX_PATHS 16
#define DISC_TEAM_PORTAL_MAX 71 /* "[v6]:port" */
#define DISC_TEAM_IFACE_MAX 23  /* a path's interface name or source address */

/* The strings are the caller's and only read during create(). */
struct disc_team_req {
	char name[32];
	const char *target;
	const char *initiator; /* "" = the data plane's default */
	unsigned int lun;
	/* CHAP: user NULL = none; target_user NULL = no mutual CHAP */
	const char *user, *secret, *target_user, *target_secret;
	unsigned int npaths;
	struct {
		char portal[DISC_TEAM_PORTAL_MAX + 1]; /* numeric host:port */
		const char *iface;                     /* "" = any */
	} path[DISC_TEAM_MAX_PATHS];
};

/* One path of a live team, as the manager judges a login by it. */
struct disc_team_path {
	int up;                    /* logged in: active or standby */
	int refused;               /* the target refused it for good */
	int login_result;          /* enum sp_login_result of its last attempt */
	unsigned int login_status; /* Status-Class << 8 | Status-Detail, 0 = none */
};

struct disc_team_ops {
	int (*running)(void);                 /* the data plane takes teams now */
	int (*portal_ok)(const char *portal); /* a portal a team path can use (numeric) */
	/* 0 with *team set, or -errno (-ENETDOWN: the data plane is down). */
	int (*create)(const struct disc_team_req *req, unsigned int *team);
	int (*destroy)(unsigned int team); /* 0 or -errno (-ENOENT: already gone) */
	/* The team's paths into out (at most max): their count, or -ENOENT when the team is gone. */
	int (*paths)(unsigned int team, struct disc_team_path *out, unsigned int max);
	/* The team's path to portal from logs in at to instead (the same LU
	 * elsewhere): 0, -ENOENT (no team, or no path at from), -errno. */
	int (*repath)(unsigned int team, const char *from, const char *to);
	/* Every other team to target (configured, not made by a login row) moves its path at from to to: how many
	 * paths moved.  Optional. */
	int (*repath_target)(const char *target, const char *from, const char *to);
};
void disc_team_ops_register(const struct disc_team_ops *ops);
/* A team changed (removed: it is gone); core.c forwards the data plane's events here. */
void disc_conn_team_event(unsigned int team, int removed);

/* ---- access (which targets this host may use) ------------------------------------ */
/* Who may be logged in to is decided elsewhere (a cluster's ownership table); subagent/ plugs it in.  may_use:
 * 0, or -EACCES when this host must not log in to target; may_use_lun (optional) the same for one LUN;
 * refused (optional) is told of each refusal, for counting.  Without ops every target may be used. */
struct disc_access_ops {
	int (*may_use)(const char *target);
	int (*may_use_lun)(const char *target, unsigned int lun);
	void (*refused)(const char *target);
};
void disc_access_ops_register(const struct disc_access_ops *ops);
/* 0 or -EACCES for a login to target/lun (no side effects). */
int disc_login_may_use(const char *target, unsigned int lun);
/* Ends the sessions of every login row to target (lun UINT32_MAX: any LUN) that this host may no longer use: its
 * team is removed and the row stays, logged out, until the target may be used again (then it logs in again).
 * Returns how many sessions ended. */
int disc_login_revoke(const char *target, unsigned int lun);
/* What this host may use changed: rows waiting to log in try again at once. */
void disc_login_access_changed(void);
/* Calls cb for each login row that is logged in or logging in (its target and LUN). */
void disc_login_foreach_wanted(void (*cb)(const char *target, unsigned int lun, void *arg), void *arg);

/* ---- rediscovery (a name server moved a target: engines/redisc_msg.h) ----------- */
/* Moves the login rows of target that use portal from (NULL: not known;
 * then each row with its own portal that is not to) over to to_target at
 * portal to.  With the same target, a live team keeps running: its path at
 * from logs in at to (the data plane checks it is the same LU); a row with
 * its own portal gets to as its portal (persisted).  With another target,
 * the row becomes a login to to_target at to (its team is made anew: it is
 * another LU).  Rows that are down log in again at once.  Returns how many
 * rows moved. */
int disc_login_readdress(const char *target, const char *from, const char *to_target, const char *to);
/* Portal of target is never used again by a login that takes the
 * target's discovered portals (a later discovery round may still list it);
 * kept in the state file.  0 or -errno. */
int disc_login_avoid(const char *target, const char *portal);
int disc_login_avoided(const char *target, const char *portal);
size_t disc_login_avoid_count(void);
/* The InitiatorName of data-plane logins. */
const char *disc_login_initiator(void);

/* ---- life --------------------------------------------------------------------- */
/* Loads the rows from the state file (persistent logins come back admin
 * up and log in, others admin down) and starts watching the teams. */
int disc_conn_start(const struct sa_discovery_config *cfg);
void disc_conn_reload(const struct sa_discovery_config *cfg);
void disc_conn_stop(void);

/* Internal to login.c and creds.c. */
struct disc_cred *disc_cred_lookup(uint32_t index);
void disc_login_cred_changed(uint32_t cred);
void disc_login_emit(int type, uint32_t a);
int disc_cred_load(void);
void disc_default_cred_load(void);
void disc_cred_clear(void);
void disc_cred_set_limits(unsigned int min, unsigned int max);
/* Sets (value) or deletes (NULL) key and commits the state file; on error
 * the in-memory state is as before.  -EIO without a state file. */
int disc_persist(const char *key, const char *value);

#endif
