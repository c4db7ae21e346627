/* sp_team_private.h: libsanpath's internals, shared by sp_team.c and sp_path.c only (users include sp_team.h). */
#ifndef SP_TEAM_PRIVATE_H
#define SP_TEAM_PRIVATE_H

#include "iscsi/sp_team.h"

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
	uint64_t t_issue;
	/* shadow: the first copy of a hedged read (io is set, but the copy the
	 * selector accounts is elsewhere); orphan: a losing copy, its data
	 * pointed at bounce (freed with the slot when the target answers). */
	int shadow, orphan;
	unsigned char *bounce;
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
	int held;              /* standby until failback */
	unsigned int dampings; /* times it was damped */
	int removed;           /* leaving the team: drains, logs out, then SP_PATH_REMOVED */
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
	int watched_fd;          /* the session's fd in the team's epoll set, -1: none (sp_team_which_events) */
	/* Suspect state (sp_suspect.c): recent latencies for the adaptive threshold. */
	int suspect;
	uint64_t t_suspect, suspects, hedged_reads, fenced_writes;
	uint32_t lat_us[128];
	unsigned int lat_n, lat_pos, lat_new;
	uint64_t threshold_ns, t_threshold;
	uint64_t t_answer; /* it last answered a command or NOP-Out */
	/* Silences that ended in an answer (the path owed something throughout, another path answered
	 * meanwhile): what a threshold must sit above for the path never to be suspect without cause. */
	uint64_t silence_max_ns, silences_20ms, silences_50ms;
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
	int watched_wake_fd;                 /* ... as registered in the epoll set, -1: none */
	int epoll_fd;                        /* sp_team_get_fd: every session, the wake fd and the tick */
	int tick_fd;                         /* timerfd: the timers' turn every TIMER_TICK_MS */
	int in_service;                      /* re-entrancy guard for dispatch from callbacks */
	struct sp_io *done_head, *done_tail; /* completions delivered after servicing */
	struct sp_io *f_head, *f_tail;       /* writes waiting for their old session's fence */
	unsigned int fenced;
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
/* Points the path at another portal of the same LU: its session (if any)
 * ends, its commands go back to the team, and it logs in there; the
 * identity check at login (VPD 0x83) refuses another LU. */
void sp_path_set_portal(struct sp_path *p, const char *portal);
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
/* 1 when a path in service has not answered io with a medium error yet. */
int sp_team_untried_path(const struct sp_team *t, const struct sp_io *io);
/* A write whose session is gone: re-issued once the command timeout has passed. */
void sp_team_fence(struct sp_team *t, struct sp_io *io);
/* A path went suspect or came back: selection, primary and queues follow. */
void sp_team_paths_changed(struct sp_team *t);
/* The first copy of a hedged read won (sp_suspect.c): withdraw the other, complete. */
void sp_team_hedge_won(struct sp_team *t, struct sp_path *p, struct sp_io *io);
/* Withdraws io from the team queue or a path queue (0), -ENOENT if it is in neither. */
int sp_team_unqueue(struct sp_team *t, struct sp_io *io);
void sp_team_push_head(struct sp_team *t, struct sp_io *io);
void sp_team_unaccount(struct sp_team *t, struct sp_io *io);

/* sp_suspect.c */
void sp_suspect_note_latency(struct sp_path *p, uint64_t lat_ns);
/* The path answered something: it may leave the suspect state at once. */
void sp_suspect_answered(struct sp_path *p, uint64_t now);
/* Per-tick check of every active path (after its timeouts). */
void sp_suspect_check(struct sp_team *t, uint64_t now);
/* A path's session ends: it is no longer suspect. */
void sp_suspect_clear(struct sp_path *p);
/* The losing copy of a hedged read: its data goes to buf from now on. */
void sp_slot_orphan(struct sp_slot *s, unsigned char *buf);
/* Final completion of io: a shadow copy still in flight becomes an orphan. */
void sp_suspect_release_shadow(struct sp_io *io);

#endif
