/* sessions.h: the registry behind sanSessionTable: every iSCSI session this host holds, with sliding-window metrics. */
#ifndef SA_SESSIONS_H
#define SA_SESSIONS_H

#include <stdint.h>
#include <time.h>

/* Data-plane paths, discovery sessions and the agent's own probes all
 * report here, so an operator sees every session in one table.  Pure C:
 * no I/O; the owners push what they know. */

enum sess_type { SESS_TYPE_NORMAL = 1, SESS_TYPE_DISCOVERY = 2 };
enum sess_owner { SESS_OWNER_DATAPATH = 1, SESS_OWNER_DISCOVERY = 2, SESS_OWNER_PROBE = 3 };
enum sess_state { SESS_LOGGING_IN = 1, SESS_LOGGED_IN = 2, SESS_FAILED = 3, SESS_LOGGED_OUT = 4 };

#define SESS_NAME_MAX 224
#define SESS_ADDR_MAX 48

struct sess_info {
	char initiator[SESS_NAME_MAX];
	char target[SESS_NAME_MAX];      /* "" for a discovery session */
	char portal_addr[SESS_ADDR_MAX]; /* numeric */
	unsigned int portal_port;
	char src_addr[SESS_ADDR_MAX]; /* numeric, "" = unknown */
	unsigned int src_port;
	unsigned char isid[6];
	unsigned int tsih;          /* 0 = unknown */
	int type;                   /* enum sess_type */
	int owner;                  /* enum sess_owner */
	int state;                  /* enum sess_state */
	time_t login_time;          /* 0 = not logged in */
	uint32_t login, team, path; /* sanLoginIndex / sanTeamIndex / path (1-based) behind it, 0 = none */
};

/* Absolute counters since the session began; the registry derives rates. */
struct sess_counters {
	uint64_t tx_bytes, rx_bytes, cmds;
	uint32_t digest_errors, timeout_errors;
	uint32_t errors; /* all errors, for the error rate */
	/* Of errors, those that came just before the session began: the failure that ended the same path's
	 * previous session.  They count in the error rate while the session's first sample is in the window:
	 * a session that failed is gone, so its failure would otherwise never show in any row's rate. */
	uint32_t errors_at_login;
	uint32_t avg_latency_us, max_latency_us; /* of the owner's last report interval */
};

/* Asked to log a session out (sanSessionLogout); returns 0 or -errno. */
typedef int (*sess_logout_fn)(uint32_t id, void *arg);

/* Returns the new session's id (stable, never reused while the agent runs), 0 when out of memory. */
uint32_t sess_add(const struct sess_info *in, sess_logout_fn logout, void *arg);
/* Replaces the identity/state part (sessionUp/Down follow state changes). */
int sess_set_info(uint32_t id, const struct sess_info *in);
int sess_set_counters(uint32_t id, const struct sess_counters *c);
int sess_remove(uint32_t id);

/* ---- what the table, the notifications and the owners read ------------ */

/* Sliding-window values, recomputed at every sess_tick(). */
struct sess_metrics {
	uint32_t tx_rate;                  /* KiB/s over the last sample interval */
	uint32_t tx_rate_max, tx_rate_min; /* KiB/s, over the sample intervals in the window */
	uint32_t tx_rate_avg;              /* KiB/s, bytes over the whole window / its length */
	uint32_t error_rate;               /* errors per hour over the window */
	uint32_t latency_avg, latency_max; /* microseconds, from the owners' reports in the window */
};

struct sess_view {
	uint32_t id;
	uint32_t node;   /* the initiator node of info.initiator (sess_node_find) */
	uint32_t portal; /* the initiator portal of info.src_addr (sess_portal_find), 0 = source unknown */
	struct sess_info info;
	struct sess_counters c;
	struct sess_metrics m;
	int can_logout; /* the owner gave a logout callback */
};

/* Rows in id order: sess_next(0) is the first, NULL ends.  O(log n). */
const struct sess_view *sess_find(uint32_t id);
const struct sess_view *sess_next(uint32_t after);
size_t sess_count(void);

/* ---- initiator nodes: each initiator name sessions were opened as ----------
 * A name gets a stable index at its first session (never reused while the agent runs) and keeps it, with its
 * login and logout counts, after its sessions end.  The counts come from the state changes the owners report:
 * a session reaching loggedIn is an accepted login, loggingIn -> failed a failed login, loggedIn -> loggedOut
 * (or removed while logged in) a normal logout, loggedIn -> failed a session failure. */
struct sess_login_stats {
	uint32_t accepts, login_failures, logout_normals, session_failures;
	/* Of login_failures, those the target answered with 0x0201 (authentication failed), 0x0202 (forbidden) or
	 * class 1 (redirected, and not followed); last_status: the last failure's Status-Class << 8 | Detail, 0 none.
	 */
	uint32_t auth_fails, authorize_fails, redirects;
	unsigned int last_status;
	time_t last_failure; /* wall clock of the last failed login, 0 = none */
	char last_target[SESS_NAME_MAX];
	char last_addr[SESS_ADDR_MAX]; /* numeric */
	unsigned int last_port;
};
struct sess_node_view {
	uint32_t index;
	char name[SESS_NAME_MAX];
	size_t nsessions; /* rows of the registry with this initiator now */
	struct sess_login_stats st;
};
/* A failed login that never became a row of the registry (a login row's data plane logs in on its own and
 * reports only logged-in paths; its manager reports each failure episode here), counted for the initiator's node
 * as a session's failed login is.  addr numeric ("" unknown); status as last_status. */
void sess_login_failed(const char *initiator, const char *target, const char *addr, unsigned int port,
                       unsigned int status);
/* Nodes in index order: sess_node_next(0) is the first, NULL ends. */
const struct sess_node_view *sess_node_find(uint32_t index);
const struct sess_node_view *sess_node_next(uint32_t after);
size_t sess_node_count(void);
/* The node's sessions in id order: the first with an id > after (0: the first), NULL ends.  O(log n). */
const struct sess_view *sess_node_session_next(uint32_t node, uint32_t after);
/* Over every node: sessions that failed after login, and the remote node (target) of the last one. */
struct sess_fail_totals {
	uint32_t session_failures;
	char last_remote[SESS_NAME_MAX];
};
const struct sess_fail_totals *sess_fail_totals(void);

/* ---- initiator portals: each source address sessions were opened from -------
 * Indexed like the nodes: stable from the first session from an address, kept after its sessions end. */
struct sess_portal_view {
	uint32_t index;
	char addr[SESS_ADDR_MAX]; /* numeric */
	size_t nsessions;         /* rows of the registry from it now */
};
const struct sess_portal_view *sess_portal_find(uint32_t index);
const struct sess_portal_view *sess_portal_next(uint32_t after); /* 0: the first */
size_t sess_portal_count(void);

/* Calls the session's logout callback: its result, -ENOENT (no such
 * session) or -EOPNOTSUPP (the owner cannot log it out). */
int sess_logout(uint32_t id);
int sess_logout_validate(uint32_t id); /* the same checks, without the logout */

/* The sampling clock: the glue calls it about once a second with a
 * monotonic time in ms (tests pass synthetic times).  Each call appends
 * one sample of every session's counters to its ring and recomputes the
 * metrics. */
void sess_tick(uint64_t now_ms);
/* Seconds the metrics span (5..3600; 60 until set).  Rings keep their
 * newest samples when it changes.  0 or -EINVAL. */
int sess_set_window(unsigned int seconds);
unsigned int sess_window(void);

/* Up/down events, published on BUS_SESSIONS (common/bus.h), synchronously.  SESS_EV_UP: the session reached
 * loggedIn; SESS_EV_DOWN: a logged-in session left it (to failed, loggedOut,
 * or removed: a removed row is still found by sess_find during the call).
 * Listeners must not add or remove sessions. */
enum sess_event_type { SESS_EV_UP = 1, SESS_EV_DOWN = 2 };
struct sess_event {
	int type;
	uint32_t id;
	const struct sess_view *s;
};
#endif
