/* sp_shm.h: one shared-memory segment per multipath team: live path statistics out, control block in. */
#ifndef SP_SHM_H
#define SP_SHM_H

#include <stdint.h>
#include <sys/types.h>

/* "SPSH": bumped version means an incompatible layout; readers refuse it. */
#define SP_SHM_MAGIC 0x53505348u
/* 2: login result, session details, per-path admin logout; 3: path portals in ctl; 4: paths added and
 * removed, failback policy, hold reasons, last errors. */
#define SP_SHM_VERSION 4u
#define SP_SHM_MAX_PATHS 16
#define SP_SHM_SUFFIX ".sanpath"

/* Path states and roles as published (same numbers as enum sp_path_state). */
struct sp_shm_path {
	char portal[72]; /* host:port */
	char iface[24];  /* source interface, "" if none */
	uint32_t state;
	uint32_t role;            /* 1 primary, 2 secondary */
	uint32_t share[2];        /* shares in force, per direction */
	uint32_t actual_share[2]; /* measured over the last report interval, percent */
	uint64_t bytes[2];        /* completed bytes per direction */
	uint64_t cmds[2];         /* completed commands per direction */
	uint64_t errors;          /* path failures (TCP error, NOP or command timeout) */
	uint64_t reconnects;
	uint64_t last_change; /* CLOCK_REALTIME seconds of the last state change */
	uint32_t avg_latency_us;
	uint32_t inflight;
	/* The session behind the path (sanSessionTable, login results). */
	uint32_t login_result; /* enum sp_login_result of the last login attempt */
	uint32_t login_status; /* its Status-Class << 8 | Status-Detail, 0 when no login response said */
	uint64_t login_time;   /* CLOCK_REALTIME seconds the current session logged in, 0: none */
	uint8_t isid[6];
	uint16_t tsih;     /* 0: unknown (libiscsi does not export it) */
	char src_addr[48]; /* numeric local address of the connection, "" when none */
	uint32_t src_port;
	uint32_t max_latency_us; /* over the last report interval */
	uint64_t digest_errors;  /* always 0: digests are not negotiated */
	uint64_t timeout_errors; /* NOP-Out and command timeouts */
	uint32_t admin_down;     /* logged out on request and kept out */
	uint32_t suspects;       /* times the path became suspect (state SP_PATH_SUSPECT while it is) */
	uint32_t hold;           /* enum sp_hold: why a verified path stands by */
	uint32_t dampings;       /* times flap damping held it back */
	char last_error[160];    /* why it last failed or was refused */
};

/* What an operator (sanagentd) may change.  The data plane applies it at
 * its next command and reports the outcome in ctl_applied / ctl_result. */
struct sp_shm_ctl {
	uint32_t mode; /* enum sp_mode */
	uint32_t algo; /* enum sp_algo */
	uint32_t share[2][SP_SHM_MAX_PATHS];
	uint32_t timer_interval_ms;
	uint32_t change_threshold;
	uint32_t lb_change_pct;
	uint32_t failback_req; /* bump to release paths held back by manual failback */
	uint32_t admin_down;   /* bit i set: path i is logged out and stays out until the bit clears */
	/* Where path i logs in ("" = where it does now): a target that moved
	 * to another address keeps its team, the path logs in there. */
	char portal[SP_SHM_MAX_PATHS][72];
	/* A portal (and iface) in a slot at or past npaths adds a path there;
	 * bit i of removed takes path i out for good (drained first). */
	char iface[SP_SHM_MAX_PATHS][24];
	uint32_t removed;
	/* Failback policy (enum sp_failback), its delay, and flap damping. */
	uint32_t failback, failback_delay_ms;
	uint32_t flap_count, flap_window_ms, flap_hold_ms;
};

struct sp_shm_seg {
	uint32_t magic;
	uint32_t version;
	uint32_t size;      /* sizeof(struct sp_shm_seg) of the writer */
	int32_t pid;        /* owner */
	uint64_t pid_start; /* owner's start time in clock ticks (/proc/PID/stat field 22): tells pid reuse apart */
	char name[64];
	char target[224];
	uint32_t lun;
	uint32_t npaths;
	uint32_t team_state; /* enum sp_team_state */
	uint32_t block_size;
	uint64_t nblocks;
	uint64_t updated; /* CLOCK_REALTIME ms of the last stats publication */

	/* seqlock over ctl: odd while a writer is inside; writers take it by CAS. */
	uint32_t ctl_seq;
	uint32_t ctl_applied; /* ctl_seq value the data plane last applied */
	int32_t ctl_result;   /* 0 or -errno of that application */
	uint32_t pad0;
	struct sp_shm_ctl ctl;

	/* seqlock over everything below, written only by the owner. */
	uint32_t stats_seq;
	uint32_t pad1;
	uint64_t total_bytes[2];
	uint64_t app_errors; /* errors the application saw */
	struct sp_shm_path path[SP_SHM_MAX_PATHS];
};

struct sp_shm {
	struct sp_shm_seg *seg;
	char *path; /* file name */
	int owner;  /* created by this process: unlink on close */
};

/* Data plane side: create DIR/NAME.sanpath (0644), fill the header and own
 * it.  -EBUSY if a live process owns a segment of that name already; a
 * stale one is replaced. */
int sp_shm_create(struct sp_shm **out, const char *dir, const char *name, const char *target, unsigned int lun);
/* Reader/controller side (sanagentd, `sanpath status`): map an existing
 * segment.  -EPROTO on a bad magic, version or size. */
int sp_shm_open(struct sp_shm **out, const char *file, int writable);
void sp_shm_close(struct sp_shm *s);

/* 1 when the owner process is gone (or was replaced by another process with
 * the same pid): its numbers are history, not live state. */
int sp_shm_is_stale(const struct sp_shm *s);

/* Control block: a writer bumps ctl_seq to odd, writes, bumps to even.
 * sp_shm_ctl_write returns the new (even) sequence number, or -EAGAIN when
 * another writer holds it. */
int sp_shm_ctl_write(struct sp_shm *s, const struct sp_shm_ctl *c);
/* Consistent snapshot; returns the sequence number it belongs to. */
uint32_t sp_shm_ctl_read(const struct sp_shm *s, struct sp_shm_ctl *c);
uint32_t sp_shm_ctl_seq(const struct sp_shm *s);
void sp_shm_ctl_ack(struct sp_shm *s, uint32_t seq, int result);

/* Stats: the owner brackets updates with begin/end; readers copy a
 * consistent snapshot of the whole segment. */
void sp_shm_stats_begin(struct sp_shm *s);
void sp_shm_stats_end(struct sp_shm *s);
void sp_shm_snapshot(const struct sp_shm *s, struct sp_shm_seg *copy);

#endif
