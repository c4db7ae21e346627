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
};

enum sp_role { SP_ROLE_PRIMARY = 1, SP_ROLE_SECONDARY = 2 };

enum sp_failback {
	SP_FAILBACK_IMMEDIATE = 1, /* a recovered path carries I/O as soon as it is verified */
	SP_FAILBACK_MANUAL = 2,    /* ... only after sp_team_failback() (or the shm failback_req) */
	SP_FAILBACK_DELAYED = 3,   /* ... after failback_delay_ms of health */
};

enum sp_team_state { SP_TEAM_OPTIMAL = 1, SP_TEAM_DEGRADED = 2, SP_TEAM_FAILED = 3 };

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
};

const char *sp_login_result_name(int r);

struct sp_team;

void sp_team_opts_default(struct sp_team_opts *o);
int sp_team_new(struct sp_team **out, const struct sp_team_opts *o);
/* Returns the path index or a negative errno. */
int sp_team_add_path(struct sp_team *t, const struct sp_path_opts *po);
/* Starts every path connecting (asynchronously) and creates the shm segment. */
int sp_team_start(struct sp_team *t);
/* Runs the loop until every path is verified, refused or failed its first
 * attempt (or timeout_ms passes).  Returns the number of paths that can
 * carry I/O, or a negative errno. */
int sp_team_wait_settled(struct sp_team *t, int timeout_ms);
/* One turn of the loop: poll the sessions up to timeout_ms, service them,
 * run the timers.  Returns 0 or a negative errno. */
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

unsigned int sp_team_npaths(const struct sp_team *t);
uint32_t sp_team_block_size(const struct sp_team *t);
uint64_t sp_team_nblocks(const struct sp_team *t);
unsigned int sp_team_outstanding(const struct sp_team *t); /* submitted, not completed */
int sp_team_state(const struct sp_team *t);
int sp_team_path_info(const struct sp_team *t, unsigned int i, struct sp_path_info *pi);
const char *sp_path_state_name(int state);

#ifdef SP_TEAM_INTERNAL
/* Shared by sp_team.c and sp_path.c only. */
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "iscsi/sp_shm.h"

struct sp_team;

struct sp_path;

struct sp_slot {
	struct sp_path *path;
	struct sp_io *io; /* NULL: free, or detached from a failed session */
	struct scsi_task *task;
	struct iscsi_context *ctx; /* the session it was issued on */
	struct scsi_iovec iov;     /* libiscsi keeps a pointer to it until completion */
};

struct sp_path {
	struct sp_team *team;
	int idx;
	char portal[72];
	char iface[24];
	char target[224];
	int lun;
	int state;
	int configured_primary;
	struct iscsi_context *ctx;
	struct sp_slot *slots;
	int *free_slots; /* stack of free slot indexes */
	unsigned int nfree;
	unsigned int inflight;
	/* Dynamic LB: commands assigned to this path (and accounted) while all
	 * its slots were busy; they wait for this path, not for another. */
	struct sp_io *wq_head, *wq_tail;
	unsigned int wqueued;
	int refuse_pending; /* identity mismatch seen in a callback */
	int fail_pending;   /* a callback saw the session die: fail it after iscsi_service returns */
	char fail_reason[160];
	char last_error[160];
	uint64_t t_state;   /* monotonic ns of the last state change */
	uint64_t t_connect; /* attempt started */
	uint64_t t_healthy; /* verified at */
	uint64_t t_retry;   /* next reconnect attempt */
	unsigned int backoff_ms;
	int first_attempt_done;
	int nop_outstanding;
	uint64_t t_nop_sent, t_nop_next;
	uint64_t fail_times[8]; /* ring of recent failure times for flap damping */
	unsigned int fail_ring;
	int damped;
	int held; /* standby until failback */
	uint64_t failures, reconnects;
	uint64_t bytes[2], cmds[2];
	uint64_t win_bytes[2]; /* bytes in the current report window */
	unsigned int actual_share[2];
	uint64_t ewma_ns;
	uint64_t last_change_rt; /* CLOCK_REALTIME seconds */
	/* identity from INQUIRY VPD 0x83 (LU designators) or 0x80 */
	unsigned char ident[256];
	unsigned int ident_len;
	uint32_t block_size;
	uint64_t nblocks;
	/* session details and login results (sp_path_info) */
	int login_result;
	unsigned int login_status;
	uint64_t login_time_rt;
	unsigned char isid[6];
	char src_addr[48];
	unsigned int src_port;
	uint64_t digest_errors, timeout_errors;
	uint64_t win_max_lat_ns; /* max latency in the current report window */
	unsigned int max_lat_us; /* ... of the last finished window */
	int admin_down;          /* logged out on request: never reconnected */
	int logout_done;         /* the Logout response came: close the session */
	int attempt_classified;  /* this attempt's login_result is set */
	int logout_sent;         /* Logout PDU queued, waiting for its response */
	uint64_t t_logout;       /* logout requested at (monotonic ns) */
};

struct sp_team {
	struct sp_team_opts o;
	char *name, *target, *initiator, *shm_dir;
	char *chap_user, *chap_secret, *chap_target_user, *chap_target_secret;
	uint32_t admin_seen; /* control block admin_down mask last applied */
	uint32_t isid_rnd;   /* random part of every path's ISID; the qualifier is the path number */
	unsigned int npaths;
	struct sp_path path[SP_MAX_PATHS];
	struct sp_lb_team bal;
	unsigned int share[2][SP_MAX_PATHS]; /* configured shares (bal gets them) */
	int started;
	/* identity of the LU, from the first verified path */
	unsigned char ident[256];
	unsigned int ident_len;
	uint32_t block_size;
	uint64_t nblocks;
	/* commands waiting for a path */
	struct sp_io *q_head, *q_tail;
	unsigned int queued;
	unsigned int outstanding;
	uint64_t t_dyn_next, t_report_next, t_report_last;
	uint64_t t_nopath_since; /* 0: some path usable */
	int team_state;
	uint64_t total_bytes[2], app_errors;
	struct sp_shm *shm;
	uint32_t ctl_seen;
	uint32_t failback_seen;
	int wake_fd;                         /* sp_team_set_wake_fd */
	int in_service;                      /* re-entrancy guard for dispatch from callbacks */
	struct sp_io *done_head, *done_tail; /* completions delivered after servicing */
};

uint64_t sp_now_ns(void);
void sp_path_init(struct sp_path *p, struct sp_team *t, int idx, const struct sp_path_opts *po);
int sp_path_connect(struct sp_path *p);
/* Tears the session down and hands its in-flight commands back to the team. */
void sp_path_fail(struct sp_path *p, const char *why);
void sp_path_close(struct sp_path *p);
/* Admin logout/login of one path (sp_team_path_logout does the team part). */
void sp_path_logout(struct sp_path *p);
void sp_path_login(struct sp_path *p);
int sp_path_issue(struct sp_path *p, struct sp_io *io);
/* Per-turn timers: NOP-Out keepalive, command and login timeouts, reconnect. */
void sp_path_timers(struct sp_path *p, uint64_t now);
void sp_path_set_state(struct sp_path *p, int state);
void sp_path_ident_hex(const unsigned char *b, unsigned int n, char *out, size_t outlen);

/* Team callbacks used by sp_path.c. */
void sp_team_path_verified(struct sp_team *t, struct sp_path *p);
void sp_team_path_lost(struct sp_team *t, struct sp_path *p);
void sp_team_requeue(struct sp_team *t, struct sp_io *io);
void sp_team_complete(struct sp_team *t, struct sp_path *p, struct sp_io *io, int status);
void sp_team_retry(struct sp_team *t, struct sp_io *io);
#endif

#endif
