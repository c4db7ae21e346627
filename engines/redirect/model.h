/* model.h: the redirect engine's rows and shared state, for the engine's own files only (handlers use redirect.h). */
#ifndef REDIR_MODEL_H
#define REDIR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/redirect/etcd.h"
#include "engines/redirect/rebalance.h"
#include "engines/redirect/redir_int.h"
#include "engines/redirect/redirect.h"

/* Rows keep their public struct first so *_find can hand it out directly
 * and one binary search serves every table (index is the first member). */
struct redir_srv {
	struct redir_server pub;
	int cfg_admin;      /* the admin state the config asked for (config rows) */
	int admin_override; /* 0, or the admin state SET over SNMP (persisted) */
	int seen;           /* config sweep */
	/* load sampling from tgt */
	struct tgtc_counter *prev;
	size_t nprev;
	struct timespec prev_at;
	int have_prev;
	int load_busy;
};

struct redir_res {
	struct redir_resource pub;
	char cfg_server[64]; /* the server the config named, "" if none */
	int seen;
	time_t agent_seen;    /* discovered rows: last time an agent listed it (or could not be asked) */
	uint64_t shared_load; /* etcd leader: the load last written to etcd */
	int shared_load_ok;   /* shared_load is in etcd */
	int stranded;         /* reported as left on its failed server (REDIR_EV_RESOURCE_STRANDED) */
};

struct redir_vec {
	void *v;
	size_t n, cap, size;
	size_t hint; /* the last position redir_vec_pos answered; see there */
};

/* ---- model.c: the tables, sorted by index, and what they hold ---------- */
extern struct redir_vec redir_servers, redir_resources, redir_clients, redir_plans;
#define SRV(i) (&((struct redir_srv *)redir_servers.v)[i])
#define RES(i) (&((struct redir_res *)redir_resources.v)[i])
#define CLI(i) (&((struct redir_client *)redir_clients.v)[i])
#define PLAN(i) (&((struct redir_plan_record *)redir_plans.v)[i])

extern uint32_t redir_next_srv, redir_next_res; /* the lowest index that may be free */
extern struct redir_params redir_cur_params;
extern struct redir_counters redir_portal_counters;
extern int redir_running;

void redir_emit(int type, uint32_t a, uint32_t b, uint32_t c);
size_t redir_vec_pos(struct redir_vec *t, uint32_t idx);
void *redir_vec_find(struct redir_vec *t, uint32_t idx);
void *redir_vec_insert(struct redir_vec *t, uint32_t idx); /* a zeroed row at its sorted place; NULL on ENOMEM */
void redir_vec_remove_pos(struct redir_vec *t, size_t p);
void redir_res_hash_rebuild(void);
struct redir_res *redir_res_by_target(const char *target);
struct redir_srv *redir_srv_by_name(const char *name);
int redir_srv_rb_state(const struct redir_srv *s);
void redir_recount(void);
void redir_client_note(const char *ini, const uint8_t isid[6], const struct sockaddr_storage *src, const char *target,
                       uint32_t resource, uint32_t server);
int redir_host_family(const char *host);
bool redir_name_ok(const char *n, size_t max);
struct redir_srv *redir_srv_add(uint32_t index, const char *name, const char *host, unsigned port, unsigned capacity,
                                int admin, int tgt, int origin, int storage);
struct redir_res *redir_res_add(uint32_t index, const char *target, uint32_t server, int pinned, int origin,
                                int storage);
void redir_model_free(bool announce);

/* ---- persist.c: the state file ------------------------------------------ */
struct cm_state *redir_st(void);
void redir_st_setf(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int redir_st_commit(void);
unsigned redir_st_uint(const char *key, unsigned def);
void redir_st_del_prefix(const char *prefix);
void redir_st_save_server(const struct redir_srv *s);
void redir_st_save_resource(const struct redir_res *r);
void redir_st_save_map(const struct redir_res *r);
const char *redir_admin_name(int a);
int redir_admin_parse(const char *s);
int redir_admin_store(struct redir_srv *s, int admin);
void redir_params_save(const struct redir_params *p);
void redir_load_persisted_servers(void);
void redir_load_persisted_resources(void);
uint32_t redir_persisted_map(const char *target);
/* Indexes that outlive restarts. */
void redir_idx_note(bool server, uint32_t index, const char *name);
uint32_t redir_idx_for(bool server, const char *name);
void redir_idx_load(void);
void redir_idx_commit(void);

/* ---- plans.c: failover, rebalance, placement ---------------------------- */
struct redir_rbctx {
	struct redir_rb_server *srv;
	struct redir_rb_resource *res;
	size_t *resmap; /* rb resource -> redir_resources position */
	size_t nres;
};
int redir_rb_build(struct redir_rbctx *c);
void redir_rb_free(struct redir_rbctx *c);
void redir_end_sessions(uint32_t server, const char *target);
void redir_failover_server(uint32_t index, int trigger);
void redir_heal_orphans(void);
void redir_place(struct redir_res *r);
int redir_run_rebalance(int trigger, bool force, bool record_empty);
bool redir_plan_cooled_down(void);

/* ---- creds.c: the portal's CHAP credentials ------------------------------ */
void redir_creds_load(void);
void redir_creds_free(void);

/* ---- verbs.c: row removal and admin changes the config sync shares ------- */
void redir_srv_remove(uint32_t index);
void redir_res_remove(uint32_t index);
void redir_srv_apply_admin(struct redir_srv *s, int admin);
void redir_params_apply(const struct redir_params *p);

/* ---- loads.c: load sampling and the timers ------------------------------- */
void redir_timers_start(void);
void redir_timers_stop(void);
void redir_loads_reset(void);

/* ---- etcd_sync.c: the mapping and server states shared by redirectors ---- */
/* With etcd, only the leader probes, rebalances and writes the mapping;
 * followers serve logins from the mapping they watch. */
extern int redir_etcd_mode;
#define REDIR_PASSIVE() (redir_etcd_mode && !redir_etcd_is_leader())
void redir_etcd_publish_loads(void);
/* listen: this redirector's first portal address, part of its etcd identity. */
int redir_etcd_begin(const struct sa_redirect_config *rc, const char *listen, char *err, size_t errlen);
void redir_etcd_end(void);
bool redir_etcd_config_changed(const struct sa_redirect_config *rc);

#endif
