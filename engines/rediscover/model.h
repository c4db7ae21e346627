/* model.h: the rediscover engine's state and the functions its files share (private to engines/rediscover/). */
#ifndef SA_ENGINES_REDISC_MODEL_H
#define SA_ENGINES_REDISC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "engines/rediscover/rediscover.h"

#define REDISC_TAG "rediscover"

/* A storage agent of the config (act mode): where its snmpd answers, the v3 user, the portals it serves. */
struct redisc_storage_agent {
	char *peer, *user, *auth_pass, *priv_pass; /* the passphrases are secrets: never logged */
	struct redisc_addr *portals;
	size_t nportals;
	int poll_interval;
};

struct redisc_model {
	int running;
	struct redisc_policy pol;
	char **feedback_users, **storage_users;
	size_t nfeedback_users, nstorage_users;
	int agent_port;
	size_t history;
	struct redisc_pool *pool; /* by index */
	size_t npool, cappool;
	uint32_t next_pool;
	/* Sessions: by index (append order, indexes only grow) and by key. */
	struct redisc_session **by_index, **by_key;
	size_t nsess, capsess;
	uint32_t next_session;
	uint64_t sess_gen; /* moves when a session comes or goes */
	/* Competing groups by index, rebuilt when sess_gen moved. */
	struct redisc_group *groups;
	size_t ngroups;
	uint32_t next_group;
	uint64_t groups_gen;
	struct redisc_decision *dec; /* by index, oldest first */
	size_t ndec, capdec;
	uint32_t next_decision;
	struct redisc_agent *agents; /* by index */
	size_t nagents, capagents;
	uint32_t next_agent;
	struct redisc_limiter lim;
	struct redisc_counters ctr;
	int subs[2];
	unsigned int sweep_timer;
	struct redisc_storage_agent *storage_agents;
	size_t nstorage_agents;
	char isns_server[80];
	char isns_source[REDISC_NAME_MAX];
	unsigned int recover_timer;
};
extern struct redisc_model redisc_m;

/* sessions.c */
int redisc_addr_cmp(const struct redisc_addr *a, const struct redisc_addr *b);
/* The first session at or after (target, portal, initiator) in key order: a competing group is one run. */
size_t redisc_key_lower(const char *target, const struct redisc_addr *portal, const char *initiator);
struct redisc_session *redisc_session_lookup(const char *target, const struct redisc_addr *portal,
                                             const char *initiator);
struct redisc_session *redisc_session_add(const struct redisc_feedback *fb);
/* Drops the known sessions of target over portal (a move ended them). */
void redisc_sessions_forget(const char *target, const struct redisc_addr *portal);
void redisc_sessions_free(void);
/* The age-out timer's callback. */
void redisc_sweep(unsigned int id, void *arg);

/* pool.c */
/* Applies the config's pool: its entries (permanent) keep their index when
 * the same address comes again; SNMP-created entries stay.  0 or -errno
 * (err says which entry). */
int redisc_pool_apply(char *const *pool, size_t n, char *err, size_t errlen);
/* The nonVolatile entries from the state file (before the config's). */
void redisc_pool_load(void);
void redisc_pool_free(void);
/* The free entry with the lowest index of the portal's family (port 0:
 * the portal's port) that is not the portal itself; 0 or -ENOENT. */
int redisc_pool_pick(const struct redisc_addr *old, struct redisc_addr *out);
int redisc_parse_portal(const char *s, struct redisc_addr *a);
/* The entry a move to addr takes (port 0 entries match any port) is marked with the decision; release frees what
 * a decision had taken. */
void redisc_pool_take(const struct redisc_addr *addr, uint32_t decision);
void redisc_pool_release(uint32_t decision);
/* The interface of the entry decision took ("" none). */
const char *redisc_pool_iface(uint32_t decision);

/* agents.c */
const struct redisc_agent *redisc_agent_by_name(const char *initiator);
/* Accepted feedback about initiator came from source ("ip:port"): its agent's trap receiver is at that address,
 * port agent_port; a configured or SNMP entry only notes the time. */
void redisc_agent_learn(const char *initiator, const char *source);
void redisc_agents_load(void);
/* The config's initiator_agents (origin config, permanent): they replace a learned or SNMP entry of the same
 * initiator; config entries no longer listed go.  0 or -errno (err says which). */
int redisc_agents_apply(const struct sa_redisc_initiator_agent_cfg *c, size_t n, char *err, size_t errlen);
/* One more message sent to the agent at index. */
void redisc_agent_note_message(uint32_t index);
void redisc_agents_free(void);

/* rows.c */
/* The portal's octets as hex (two lowercase digits an octet; out holds 33), as the state file keeps them; back
 * from exactly as many digits as a->type has octets: 0 or -EINVAL. */
void redisc_addr_hex(const struct redisc_addr *a, char *out);
int redisc_addr_unhex(const char *hex, struct redisc_addr *a);
/* A nonVolatile row is one state-file line under prefix and its index: "TYPE HEX PORT TEXT", the portal and the
 * row's own word (the pool's interface, the agent's initiator).  store: 0 or -errno (-EIO: no state store); it is
 * committed with the rest of the request.  forget drops the line. */
int redisc_rows_store(const char *prefix, uint32_t index, const struct redisc_addr *addr, const char *text);
void redisc_rows_forget(const char *prefix, uint32_t index);
/* A line read back: index 1..UINT32_MAX, type 1 or 2 with its octets, port up to 65535; text is the word after the
 * port (at most text_max - 1 octets), fields 4 with it and 3 without.  0 takes the row, -1 refuses it. */
typedef int (*redisc_rows_take_fn)(uint32_t index, const struct redisc_addr *addr, const char *text, int fields);
/* Hands take every line under prefix; lines that cannot be read or that take refuses are counted in one warning
 * that names what rows they are. */
void redisc_rows_load(const char *prefix, const char *what, size_t text_max, redisc_rows_take_fn take);

/* groups.c */
void redisc_groups_free(void);

/* engine.c: a session row read from a storage agent's table (poll.c), taken as that agent's feedback. */
int redisc_take_polled(const struct redisc_feedback *fb, const char *source);

/* poll.c: polls the storage agents with poll_interval > 0; apply replaces the set (reload), stop ends it. */
void redisc_poll_apply(const struct sa_rediscover_config *c);
void redisc_poll_stop(void);
/* messages.c */
/* The message user, the storage agents' portals and the alternatives, copied from the section. */
int redisc_messages_apply(const struct sa_rediscover_config *c, char *err, size_t errlen);
int redisc_messages_start(void); /* subscribes to REDISC_EV_MOVED */
void redisc_messages_stop(void);

/* history.c */
/* Appends d (its index set) and persists it; the oldest row goes when the history is full. */
int redisc_decision_store(const struct redisc_decision *d);
/* Persists a row already in the history: 0 or a state-store error (logged). */
int redisc_decision_persist(const struct redisc_decision *d);
/* A session a storage agent reported for the first time: if an initiator of a recent move of its target logged in
 * again elsewhere, the decision's outcome says where and how many seconds after the decision. */
void redisc_outcome_note(const struct redisc_session *s);
/* The history from the state file, and from it the cooldowns and the cap. */
void redisc_decisions_load(void);

/* move.c */
/* Starts carrying out decision index (act mode, state inProgress, stored): 0, or -errno and err says why. */
int redisc_move_start(uint32_t index, char *err, size_t errlen);
/* At start: pool entries of finished moves taken again; moves caught by a restart completed or undone. */
void redisc_move_recover(void);
void redisc_moves_stop(void);

#endif
