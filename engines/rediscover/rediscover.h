/* rediscover.h: the rediscover engine (seed 000): session feedback, known sessions, decisions and their history. */
#ifndef SA_ENGINES_REDISCOVER_H
#define SA_ENGINES_REDISCOVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/snmp_client.h"
#include "engines/rediscover/policy.h"
#include "engines/rediscover/redisc_mib.h"
#include "engines/rediscover/redisc_config.h"

#define REDISC_NAME_MAX 224 /* iSCSI names are at most 223 octets */
#define REDISC_SOURCE_MAX 64
#define REDISC_TEXT_MAX 512

/* A portal: InetAddressType (0 none, 1 ipv4, 2 ipv6), the address in
 * network order and the TCP port. */
struct redisc_addr {
	int type;
	unsigned char a[16];
	uint16_t port;
};
size_t redisc_addr_len(const struct redisc_addr *a);
/* "ADDRESS:PORT", "[V6]:PORT"; "" for none. */
void redisc_addr_text(const struct redisc_addr *a, char *buf, size_t len);

/* One decoded feedback or request notification. */
struct redisc_feedback {
	int request; /* sanRediscoveryRequest (else sanSessionFeedback) */
	char initiator[REDISC_NAME_MAX];
	char target[REDISC_NAME_MAX];
	struct redisc_addr portal;
	struct redisc_metrics m;
	uint64_t bytes;
	int have_bytes;
	char sessions[REDISC_TEXT_MAX];
	char offender[REDISC_NAME_MAX];
	int reason;
};

/* Why feedback is dropped (each has its counter). */
enum redisc_drop { REDISC_DROP_NONE = 0, REDISC_DROP_UNAUTHORIZED, REDISC_DROP_UNKNOWN_SESSION, REDISC_DROP_MALFORMED };

struct cm_trap;
/* Decodes one notification's varbinds: REDISC_DROP_NONE or
 * REDISC_DROP_MALFORMED (a mandatory varbind missing, a wrong type or
 * length). */
int redisc_feedback_decode(const struct cm_trap *t, int request, struct redisc_feedback *out);

struct redisc_counters {
	uint64_t received, accepted, dropped;
	uint64_t dropped_unauthorized, dropped_unknown_session, dropped_malformed;
	uint64_t decisions, suppressed, moves, moves_failed, messages, requests;
	uint64_t polls, poll_failures; /* walks of storage agents' session tables that ended, that failed */
};

/* A session the engine knows. */
struct redisc_session {
	uint32_t index;
	char initiator[REDISC_NAME_MAX];
	char target[REDISC_NAME_MAX];
	struct redisc_addr portal;
	struct redisc_metrics m;
	uint64_t bytes;
	uint64_t feedbacks;
	uint64_t last_ms; /* monotonic: last report */
	struct redisc_hold hold;
	char source[REDISC_SOURCE_MAX];
};

enum redisc_trigger { REDISC_TRIG_FEEDBACK = 1, REDISC_TRIG_REQUEST, REDISC_TRIG_POLL, REDISC_TRIG_MANUAL };
enum redisc_state { REDISC_ST_RECORDED = 1, REDISC_ST_IN_PROGRESS, REDISC_ST_DONE, REDISC_ST_FAILED };

struct redisc_decision {
	uint32_t index;
	time_t when;
	int trigger; /* enum redisc_trigger */
	char source[REDISC_SOURCE_MAX];
	int metric; /* enum redisc_metric */
	uint32_t value;
	char target[REDISC_NAME_MAX];
	struct redisc_addr old_portal, new_portal;
	char competing[REDISC_TEXT_MAX];
	char offender[REDISC_NAME_MAX];
	int mode;  /* REDISC_DRY_RUN or REDISC_ACT */
	int state; /* enum redisc_state */
	uint32_t sessions_ended;
	char messages[REDISC_TEXT_MAX];
	char outcome[REDISC_TEXT_MAX];
	char error[128];
	/* act mode: how far the move got (enum redisc_move_step, persisted before each step is taken) and the
	 * storage agent's sanStorPortalTable row it creates for the new portal (0 none yet) */
	int step;
	uint32_t stor_row;
};

/* The steps of a move, in order. */
enum redisc_move_step {
	REDISC_MV_NONE = 0,
	REDISC_MV_INDEX,    /* asking the storage agent for a free portal row index */
	REDISC_MV_CREATE,   /* creating the portal row (createAndGo) */
	REDISC_MV_WAIT,     /* waiting until tgt listens there (the row reads active) */
	REDISC_MV_ISNS,     /* moving the target to the new portal in iSNS */
	REDISC_MV_SESSIONS, /* ending the target's sessions over the old portal */
	REDISC_MV_FINISH,   /* all done but the final write */
	REDISC_MV_UNDO,     /* undoing what was done */
};

/* What a move needs from outside the engine, injected by the agent before the engine starts: its SNMP client
 * (common/snmp_client.h) and the iSNS update (the agent plugs in redisc_isns_move). */
#include "common/snmp_client.h"
struct redisc_move_ops {
	int (*walk)(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
	            cm_snmpc_done_cb done, void *arg);
	int (*set)(const struct cm_snmpc_peer *p, const struct cm_snmpc_vb *vbs, size_t n, cm_snmpc_done_cb done,
	           void *arg);
	/* Moves target from old to new in iSNS (undo: back), asynchronously: 0 and done later from the loop, or
	 * a negative errno at once. */
	int (*isns_move)(const char *server, const char *source, const char *target, const struct redisc_addr *old,
	                 const struct redisc_addr *new_portal, int undo, cm_snmpc_done_cb done, void *arg);
};
void redisc_move_ops_register(const struct redisc_move_ops *ops);
/* The agent's isns_move: the update on the process's libisns thread (isns_move.c, iscsi/isns_worker.h). */
int redisc_isns_move(const char *server, const char *source, const char *target, const struct redisc_addr *old,
                     const struct redisc_addr *new_portal, int undo, cm_snmpc_done_cb done, void *arg);
/* Milliseconds a step may take (the storage agent's answer, tgt listening, iSNS); tests shorten it. */
extern unsigned int redisc_move_step_ms; /* rediscover.move_step_timeout */

/* Events on BUS_REDISCOVER (common/bus.h). */
/* DECISION: a decision was recorded (any mode and state).  MOVED: an act-mode move finished (state done: the new
 * portal is live on the storage host, the old one gone, iSNS updated).  MOVE_FAILED: an act-mode move ended in
 * state failed, what it had done undone (the row's error says why). */
enum redisc_event_type { REDISC_EV_DECISION = 1, REDISC_EV_MOVED, REDISC_EV_MOVE_FAILED };
struct redisc_event {
	int type;
	uint32_t index; /* the decision */
};

/* Engine life: the registry's ops (redisc_engine_ops, engines/registry.h) call these with the engine's section. */
struct sa_engine_ops;
extern const struct sa_engine_ops redisc_engine_ops;
int redisc_start(const struct sa_rediscover_config *c, char *err, size_t errlen);
int redisc_reload(const struct sa_rediscover_config *c, char *err, size_t errlen);
void redisc_stop(void);
int redisc_running(void);

/* The policy in force (NULL while stopped); a SET validates the whole
 * policy, then applies it (until the next restart or reload). */
const struct redisc_policy *redisc_policy(void);
int redisc_policy_check(const struct redisc_policy *p);
int redisc_policy_set(const struct redisc_policy *p);

const struct redisc_counters *redisc_counters(void);

/* The verbs behind the trap receiver's notifications (BUS_TRAP), public
 * so tests can drive them: fb NULL for a notification that did not
 * decode, principal the v3 user (version 3), source "ip:port".  Returns
 * the drop reason (REDISC_DROP_NONE: taken). */
int redisc_take(const struct redisc_feedback *fb, int request, int version, const char *principal, const char *source);

/* The manual trigger (sanRediscTrigger): a decision for target over
 * portal now, without hold time, naming offender ("" none).  check: 0,
 * -ENODEV (engine off, or mode off), -EINVAL (a name or portal that cannot
 * be), -EAGAIN (within a cooldown or beyond the hourly cap).  trigger:
 * the decision's index, or -errno. */
int redisc_trigger_check(const char *target, const struct redisc_addr *portal, const char *offender);
int redisc_trigger(const char *target, const struct redisc_addr *portal, const char *offender);

/* Known sessions in index order (O(log n)): the first with index > after. */
const struct redisc_session *redisc_session_next(uint32_t after);
const struct redisc_session *redisc_session_find(uint32_t index);
size_t redisc_session_count(void);
/* Seconds some metric of the session has stayed outside its threshold. */
uint32_t redisc_session_outside_age(const struct redisc_session *s);

/* An entry of the address pool (sanRediscPoolTable). */
enum redisc_storage { REDISC_ST_VOLATILE = 2, REDISC_ST_NONVOLATILE = 3, REDISC_ST_PERMANENT = 4 };
#define REDISC_IFACE_MAX 32
struct redisc_pool {
	uint32_t index;
	struct redisc_addr addr; /* port 0: keep the portal's */
	char iface[REDISC_IFACE_MAX];
	int storage;       /* enum redisc_storage; permanent: from the config file */
	uint32_t decision; /* the move that took it, 0 while free */
};
const struct redisc_pool *redisc_pool_next(uint32_t after);
const struct redisc_pool *redisc_pool_find(uint32_t index);
uint32_t redisc_pool_next_index(void);
/* The pool table's verbs.  validate: 0, -ENODEV (engine off), -EEXIST (the
 * index, or the same address and port), -EINVAL (address, interface name or
 * storage type that cannot be).  destroy_check: -ENOENT, -EPERM (from the
 * config file), -EBUSY (in use). */
int redisc_pool_validate(uint32_t index, const struct redisc_addr *addr, const char *iface, int storage);
int redisc_pool_create(uint32_t index, const struct redisc_addr *addr, const char *iface, int storage);
int redisc_pool_destroy_check(uint32_t index);
int redisc_pool_destroy(uint32_t index);

/* Where an initiator's rediscovery messages go (sanRediscAgentTable). */
enum redisc_origin { REDISC_ORIGIN_CONFIG = 1, REDISC_ORIGIN_SNMP, REDISC_ORIGIN_LEARNED };
struct redisc_agent {
	uint32_t index;
	char initiator[REDISC_NAME_MAX];
	struct redisc_addr addr; /* its trap receiver */
	int origin;              /* enum redisc_origin */
	int storage;             /* enum redisc_storage; learned entries are volatile */
	time_t last_heard;       /* 0: never */
	uint64_t messages;
};
const struct redisc_agent *redisc_agent_next(uint32_t after);
const struct redisc_agent *redisc_agent_find(uint32_t index);
uint32_t redisc_agent_next_index(void);
/* validate: 0, -ENODEV, -EEXIST (the index, or the initiator has an entry other than a learned one), -EINVAL.
 * create replaces a learned entry of the same initiator.  destroy_check: -ENOENT, -EPERM (configured). */
int redisc_agent_validate(uint32_t index, const char *initiator, const struct redisc_addr *addr, int storage);
int redisc_agent_create(uint32_t index, const char *initiator, const struct redisc_addr *addr, int storage);
int redisc_agent_destroy_check(uint32_t index);
int redisc_agent_destroy(uint32_t index);

/* A competing group: the sessions of two or more initiators over one
 * portal of one target (seed 000 Fig. 2).  Its index stays while the
 * group exists. */
struct redisc_group {
	uint32_t index;
	char target[REDISC_NAME_MAX];
	struct redisc_addr portal;
};
enum redisc_group_state { REDISC_G_BALANCED = 1, REDISC_G_HOLDING, REDISC_G_COOLING };
/* What the group is now, judged at the call. */
struct redisc_group_view {
	char initiators[REDISC_TEXT_MAX]; /* by share of the bytes, largest first */
	char offender[REDISC_NAME_MAX];
	unsigned int share_pct;
	int state; /* enum redisc_group_state */
};
const struct redisc_group *redisc_group_next(uint32_t after);
const struct redisc_group *redisc_group_find(uint32_t index);
/* 0, -ENOENT (gone) or -ENOMEM. */
int redisc_group_view(const struct redisc_group *g, struct redisc_group_view *out);

/* Decisions in index order. */
const struct redisc_decision *redisc_decision_next(uint32_t after);
const struct redisc_decision *redisc_decision_find(uint32_t index);
/* Applies fn(row, arg) to decision index and persists the row atomically; publishes nothing.  fn must not
 * change the index.  0, -ENOENT (no such row, or the engine is stopped) or a state-store error (the row then
 * keeps fn's change in memory). */
int redisc_decision_update(uint32_t index, void (*fn)(struct redisc_decision *d, void *arg), void *arg);

/* The rediscovery messages (engines/redisc_msg.h) go out through the agent's SNMP client, plugged in by
 * subagent/core.c (engines never include subagent/). */
struct redisc_msg_ops {
	int (*inform)(const struct cm_snmpc_peer *p, const uint32_t *trap_oid, size_t trap_oid_len,
	              const struct cm_snmpc_vb *vbs, size_t nvbs, cm_snmpc_done_cb done, void *arg);
};
void redisc_msg_ops_register(const struct redisc_msg_ops *ops);
/* After decision index moved its portal (REDISC_EV_MOVED calls it): sanRediscover to every competing initiator
 * but the offender, sanRediscoverAlternative to the offender (the target's other portal at the storage agent
 * that served the old address, else a configured target its discovery domain admits), each an inform to the
 * initiator's agent (sanRediscAgentTable).  The decision's messages column says, per message,
 * "typeN:INITIATOR@AGENT=STATE[,alt=...]": sent, then acked, timeout or failed; no-agent (iSNS alone tells
 * it), no-sender (no message_user), no-alternative.  Returns the messages planned, or -ENOENT. */
int redisc_send_messages(uint32_t index);

/* How many known sessions have metric (1..REDISC_NMETRICS) outside now. */
uint32_t redisc_outside_count(int metric);

/* Clocks (tests replace them): monotonic milliseconds and wall seconds. */
extern uint64_t (*redisc_clock_ms)(void);
extern time_t (*redisc_clock_wall)(void);

#endif
