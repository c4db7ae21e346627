/* sp_team.h: libsanpath, the userspace multipath data plane: a team of libiscsi sessions to one LU. */
#ifndef SP_TEAM_H
#define SP_TEAM_H

#include <stddef.h>
#include <stdint.h>

#include "iscsi/sp_shares.h"
#include "iscsi/login_result.h"
#include "iscsi/sp_chap.h"

/* Same numbers in the shared-memory segment and, later, the MIB. */
enum sp_path_state {
	SP_PATH_IDLE = 0,       /* not started */
	SP_PATH_CONNECTING = 1, /* TCP, login, identity check under way */
	SP_PATH_STANDBY = 2,    /* logged in and verified, carries no I/O (failover secondary, failback pending) */
	SP_PATH_ACTIVE = 3,     /* carries I/O */
	SP_PATH_DOWN = 4,       /* failed; reconnects with backoff */
	SP_PATH_REFUSED = 5,    /* reaches another LU: never used */
	/* Published only (shm, sp_path_info): an active path that stopped
	 * answering for longer than its suspect threshold; it takes no new
	 * commands until it answers again or fails.  Internally still active. */
	SP_PATH_SUSPECT = 6,
	SP_PATH_REMOVED = 7, /* taken out of the team (sp_team_path_remove): drained, logged out, never used again */
};

/* Why a verified path stands by instead of carrying I/O (sp_path_info.hold). */
enum sp_hold { SP_HOLD_NONE = 0, SP_HOLD_MANUAL = 1, SP_HOLD_DELAY = 2, SP_HOLD_FLAP = 3 };

enum sp_role { SP_ROLE_PRIMARY = 1, SP_ROLE_SECONDARY = 2 };

enum sp_failback {
	SP_FAILBACK_IMMEDIATE = 1, /* a recovered path carries I/O as soon as it is verified */
	SP_FAILBACK_MANUAL = 2,    /* ... only after sp_team_failback() (or the shm failback_req) */
	SP_FAILBACK_DELAYED = 3,   /* ... after failback_delay_ms of health */
};

enum sp_team_state { SP_TEAM_OPTIMAL = 1, SP_TEAM_DEGRADED = 2, SP_TEAM_FAILED = 3 };

/* The initiator name a team logs in as when its options give none. */
#define SP_DEFAULT_INITIATOR "iqn.2024-01.org.sanagent:sanpath"

struct sp_team_opts {
	const char *name;      /* team name: shm segment name, logs */
	const char *target;    /* target IQN */
	const char *initiator; /* initiator IQN */
	/* CHAP (NULL or "" user: none); target_user/target_secret for mutual
	 * CHAP.  Copied by sp_team_new, wiped by sp_team_free, never logged. */
	const char *chap_user, *chap_secret, *chap_target_user, *chap_target_secret;
	int lun;
	int mode; /* enum sp_mode */
	int algo; /* enum sp_algo */
	/* 0 in every slot of a direction means "equal shares". */
	unsigned int share[2][SP_MAX_PATHS];
	struct sp_lb_dynamic dyn;
	unsigned int max_inflight;                       /* per path */
	unsigned int nop_interval_ms;                    /* NOP-Out every ... on every logged-in path */
	unsigned int nop_timeout_ms;                     /* ... unanswered this long: path down */
	unsigned int cmd_timeout_ms;                     /* a command outstanding this long: path down */
	unsigned int login_timeout_ms;                   /* connect + login + identity check */
	unsigned int no_path_retry_s;                    /* with no path, commands wait this long, then fail */
	unsigned int reconnect_min_ms, reconnect_max_ms; /* exponential backoff bounds */
	int failback;                                    /* enum sp_failback */
	unsigned int failback_delay_ms;
	/* Flap damping: flap_count failures within flap_window_ms keep the path
	 * in standby for flap_hold_ms of health after it comes back. */
	unsigned int flap_count, flap_window_ms, flap_hold_ms;
	/* Suspect handling: a path whose oldest command in flight or NOP-Out
	 * is older than max(suspect_k x its recent p99 latency,
	 * suspect_floor_ms) takes no new commands and its reads in flight are
	 * re-issued elsewhere; 0 turns it off (the old behaviour). */
	int suspect;
	unsigned int suspect_k, suspect_floor_ms;
	const char *shm_dir;    /* NULL: no shared-memory segment */
	unsigned int report_ms; /* shm stats publication and actual-share window */
};

struct sp_path_opts {
	const char *portal; /* host:port */
	const char *iface;  /* source interface (SO_BINDTODEVICE) or NULL */
	const char *target; /* NULL: the team's */
	int lun;            /* -1: the team's */
};

struct sp_io;
struct sp_slot;
/* status: 0, or negative errno the application sees (-ENOLINK: no path
 * for no_path_retry seconds; -EIO: the target failed the command). */
typedef void (*sp_io_cb)(struct sp_io *io, int status, void *priv);

struct sp_io {
	/* Set by the caller. */
	int dir;      /* SP_READ or SP_WRITE */
	uint64_t lba; /* LU blocks */
	uint32_t nblocks;
	unsigned char *buf; /* nblocks * block size */
	sp_io_cb cb;
	void *priv;
	/* Owned by the team while submitted. */
	struct sp_io *next;
	int path; /* the path it is accounted to in the selector (sp_lb_account), -1: none */
	int slot; /* its slot on that path, -1: waiting in the path's queue or the team's */
	unsigned int attempts;
	uint64_t t_submit, t_issue; /* CLOCK_MONOTONIC ns */
	/* A hedged read: its first copy, still in flight on a suspect path,
	 * and the bounce buffer the losing copy is pointed at. */
	struct sp_slot *shadow;
	unsigned char *hedge_buf;
	uint64_t t_fence; /* a write held until its old session is fenced: re-issued at */
	/* Medium and hardware errors: the paths (bit i) that answered this
	 * command with one, and the first of them (-1: none); the command tries
	 * the paths it has not been on before its error is the application's. */
	uint32_t tried;
	int medium_path;
};

struct sp_path_info {
	char portal[72];
	char iface[24];
	char target[224];
	int state, role;
	unsigned int share[2], actual_share[2];
	uint64_t bytes[2], cmds[2];
	uint64_t failures, reconnects;
	unsigned int avg_latency_us, inflight;
	char last_error[160];
	/* The session behind the path. */
	int login_result;          /* enum sp_login_result of the last attempt */
	unsigned int login_status; /* Status-Class << 8 | Status-Detail, 0: no login response said */
	uint64_t login_time;       /* CLOCK_REALTIME s the current session logged in, 0: none */
	unsigned char isid[6];
	unsigned int tsih; /* 0: unknown (libiscsi keeps it to itself) */
	char src_addr[48];
	unsigned int src_port;
	unsigned int max_latency_us; /* over the last report interval */
	uint64_t digest_errors, timeout_errors;
	int admin_down;
	int suspect;                       /* taking no new commands (state shows SP_PATH_SUSPECT) */
	uint64_t suspects;                 /* times it became suspect */
	unsigned int suspect_threshold_us; /* the threshold in force */
	uint64_t hedged_reads, fenced_writes;
	int hold;                              /* enum sp_hold */
	unsigned int dampings;                 /* times flap damping held it back */
	int removed;                           /* sp_team_path_remove() */
	unsigned int silence_max_us;           /* longest silence that ended in an answer */
	uint64_t silences_20ms, silences_50ms; /* such silences longer than 20 and 50 ms */
};

const char *sp_login_result_name(int r);

struct sp_team;

void sp_team_opts_default(struct sp_team_opts *o);
int sp_team_new(struct sp_team **out, const struct sp_team_opts *o);
/* Returns the path index or a negative errno.  On a started team the path
 * connects at once and joins only when its identity (VPD 0x83) and geometry
 * match the team's; otherwise it is refused (state, last_error, login_result). */
int sp_team_add_path(struct sp_team *t, const struct sp_path_opts *po);
/* Takes path i (0-based) out of the team for good: it takes no new
 * commands, its commands in flight finish, then it logs out and stays
 * SP_PATH_REMOVED; its index is never reused.  -ENOENT. */
int sp_team_path_remove(struct sp_team *t, unsigned int i);
/* Failback policy and flap damping of a running team (see sp_team_opts). -EINVAL. */
int sp_team_set_failback(struct sp_team *t, int failback, unsigned int delay_ms, unsigned int flap_count,
                         unsigned int flap_window_ms, unsigned int flap_hold_ms);
/* Starts every path connecting (asynchronously) and creates the shm segment. */
int sp_team_start(struct sp_team *t);
/* Runs the loop until every path is verified, refused or failed its first
 * attempt (or timeout_ms passes).  Returns the number of paths that can
 * carry I/O, or a negative errno. */
int sp_team_wait_settled(struct sp_team *t, int timeout_ms);
/* Running a team on another event loop (the agent's, nbdkit's), as
 * libiscsi's iscsi_get_fd / iscsi_which_events / iscsi_service do for one
 * session:
 *
 *     pfd.fd = sp_team_get_fd(t);
 *     pfd.events = sp_team_which_events(t);
 *     poll(&pfd, 1, timeout);            (at most every few ms: see below)
 *     sp_team_service(t, pfd.revents);
 *
 * The fd (valid from sp_team_start to sp_team_free, the same for the life of
 * the team) is readable when a session has work, when the wake fd is
 * readable, or when the team's timers are due (every 10 ms: NOP-Outs,
 * timeouts, reconnects, dynamic load balancing), so a loop that waits on it
 * needs no timeout of its own.  sp_team_which_events brings the team's
 * watch list up to date (sessions come and go, a submitted command wants its
 * socket writable) and returns the events to wait for (POLLIN): call it
 * before each wait, after servicing and submitting (one epoll_ctl per
 * session).  sp_team_service does what is ready, without blocking, then runs
 * the timers and dispatches queued commands; revents 0 runs the timers only.
 * 0 or a negative errno. */
int sp_team_get_fd(const struct sp_team *t);
int sp_team_which_events(struct sp_team *t);
int sp_team_service(struct sp_team *t, int revents);
/* One turn of the loop on the trio: wait up to timeout_ms (at most one
 * timer tick) on the team's fd, then service it.  0 or a negative errno. */
int sp_team_poll(struct sp_team *t, int timeout_ms);
int sp_team_submit(struct sp_team *t, struct sp_io *io);
/* An extra fd (an eventfd, a pipe) that sp_team_poll() also waits on for
 * POLLIN, so another thread can wake the loop to submit; the caller drains
 * it.  -1 (the default): none. */
void sp_team_set_wake_fd(struct sp_team *t, int fd);
void sp_team_free(struct sp_team *t);
/* Leaves the shm segment in place at sp_team_free(), last results published
 * (for a supervisor to read after this process exits). */
void sp_team_keep_segment(struct sp_team *t);

/* Verbs (also reachable through the shm control block). */
int sp_team_set_shares(struct sp_team *t, int dir, const unsigned int *shares);
int sp_team_set_mode(struct sp_team *t, int mode);
int sp_team_set_algo(struct sp_team *t, int algo);
int sp_team_set_dynamic(struct sp_team *t, const struct sp_lb_dynamic *d);
/* Releases a path held in standby by manual failback (-1: every path). */
int sp_team_failback(struct sp_team *t, int path);
/* Logs path i (0-based) out once its commands are done (new ones go to the
 * other paths) and keeps it out; sp_team_path_login lets it connect again.
 * Also reachable through the shm control block (admin_down). */
int sp_team_path_logout(struct sp_team *t, unsigned int i);
int sp_team_path_login(struct sp_team *t, unsigned int i);
/* Path i (0-based) logs in at portal from now on (the same LU elsewhere):
 * its session ends, its commands go to the other paths, it connects there.
 * Also reachable through the shm control block (portal).  -ENOENT, -EINVAL. */
int sp_team_path_set_portal(struct sp_team *t, unsigned int i, const char *portal);

unsigned int sp_team_npaths(const struct sp_team *t);
uint32_t sp_team_block_size(const struct sp_team *t);
uint64_t sp_team_nblocks(const struct sp_team *t);
unsigned int sp_team_outstanding(const struct sp_team *t); /* submitted, not completed */
int sp_team_state(const struct sp_team *t);
int sp_team_path_info(const struct sp_team *t, unsigned int i, struct sp_path_info *pi);
const char *sp_path_state_name(int state);

#endif
