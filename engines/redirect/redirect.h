/* redirect.h: the redirect engine (seed 003): portal, servers, resources, client sessions, plans, and its verbs. */
#ifndef SA_REDIR_REDIRECT_H
#define SA_REDIR_REDIRECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/registry.h"
#include "common/state.h"

/* The engine keeps every table sorted by its stable index (never reused
 * while the agent runs), so the handlers answer GET and GETNEXT in
 * O(log n) through the *_find / *_next functions below. */

#define REDIR_NAME_MAX 224 /* iSCSI names are at most 223 octets */
#define REDIR_HOST_MAX 64

/* spare (seed 003 [0088]): kept available but unused; it takes no resources
 * until a server fails, and then all of that server's resources at once. */
enum redir_admin { REDIR_ADMIN_UP = 1, REDIR_ADMIN_DRAIN = 2, REDIR_ADMIN_DOWN = 3, REDIR_ADMIN_SPARE = 4 };
/* What a pinned resource does when its server fails: stay (unreachable until
 * the server is back) or move like any other resource and stay pinned there. */
enum redir_fail_policy { REDIR_FAIL_STAY = 1, REDIR_FAIL_MOVE = 2 };
enum redir_oper { REDIR_OPER_UP = 1, REDIR_OPER_DOWN = 2, REDIR_OPER_UNKNOWN = 3 };
/* Where a row came from: config rows are read-only over SNMP and vanish
 * when the config drops them; SNMP rows persist when nonVolatile. */
enum redir_origin { REDIR_ORIGIN_CONFIG = 1, REDIR_ORIGIN_SNMP = 2, REDIR_ORIGIN_DISCOVERED = 3 };
enum redir_storage { REDIR_ST_VOLATILE = 2, REDIR_ST_NONVOLATILE = 3, REDIR_ST_READONLY = 5 };

struct redir_server {
	uint32_t index;
	char name[64];
	int family;                /* AF_INET or AF_INET6 */
	char host[REDIR_HOST_MAX]; /* numeric address */
	uint16_t port;
	uint32_t capacity; /* relative weight, 1..1000000 */
	int admin;         /* enum redir_admin */
	int oper;          /* enum redir_oper, from health checks */
	uint64_t load;     /* its resources' loads plus its host load (weighted, see redir_params) */
	uint32_t nresources;
	time_t last_change;
	uint64_t probes_ok, probes_failed;
	char last_error[128];
	int origin;           /* enum redir_origin */
	int storage;          /* enum redir_storage */
	int tgt_control;      /* local tgtd control port (tgtadm -C) for loads and ending sessions, -1 = none */
	uint32_t spare_for;   /* a spare that took over: the failed server's index, while it holds resources */
	int cpu_pct, mem_pct; /* from its agent's HOST-RESOURCES-MIB: processor load, memory used; -1 unknown */
	uint64_t host_load;   /* weight_cpu * cpu_pct + weight_memory * mem_pct: stays with the server */
};

struct redir_resource {
	uint32_t index;
	char target[REDIR_NAME_MAX];  /* the target's iSCSI name */
	uint32_t server;              /* mapped server index, 0 = none (logins get 0x0301 service unavailable) */
	uint64_t load;                /* weight_bytes * bytes/s + weight_commands * commands/s, or SET by a monitor */
	uint64_t byte_rate, cmd_rate; /* measured: bytes/s and SCSI commands/s */
	int load_set;                 /* 1 when the last load came from a SET */
	int pinned;
	int fail_policy; /* enum redir_fail_policy */
	time_t mapped_since;
	uint64_t redirects;
	int origin;
	int storage;
};

struct redir_client {
	uint32_t index;
	char initiator[REDIR_NAME_MAX];
	uint8_t isid[6];
	struct sockaddr_storage source;
	char target[REDIR_NAME_MAX]; /* "" for discovery sessions */
	uint32_t resource;           /* resource index it was redirected to, 0 for discovery */
	uint32_t server;             /* server index it was sent to */
	time_t first_seen, last_seen;
	uint64_t logins;
};

enum redir_trigger {
	REDIR_TRIG_PERIODIC = 1,
	REDIR_TRIG_THRESHOLD = 2,
	REDIR_TRIG_MANUAL = 3,
	REDIR_TRIG_FAILOVER = 4,
	REDIR_TRIG_DRAIN = 5
};

struct redir_plan_record {
	uint32_t index;
	time_t when;
	int trigger; /* enum redir_trigger */
	uint32_t nmoves;
	/* Highest relative load (server load / capacity, rounded) among the
	 * servers that take resources: Fig. 8 of seed 003 (capacity 1) reads
	 * 700 before and 450 after. */
	uint64_t max_before, max_after;
	char moves[512]; /* "res3:1->2 res5:1->3" (truncated with "..." if long) */
};

struct redir_params {
	unsigned int threshold_pct;     /* default 50 (seed 003) */
	unsigned int interval_s;        /* periodic rebalance, 0 = off */
	unsigned int max_moves;         /* per plan */
	unsigned int probe_interval_ms; /* health check period, default 300 */
	unsigned int probe_timeout_ms;  /* default 500: a failure is noticed within 1 s */
	unsigned int load_interval_s;   /* how often loads are read from tgt */
	int permanent;                  /* answer 0x0102 instead of 0x0101 */
	int auth;                       /* enum redir_auth: what the portal asks of an initiator */
	unsigned int auth_lifetime_s;   /* a CHAP pass at the portal covers later logins from there this long */
	/* Server load (seed 003 [0095]): a weighted sum.  A resource's share,
	 * which moves with it: w_bytes * bytes/s + w_cmds * commands/s; the
	 * host's, which stays: w_cpu * CPU % + w_mem * memory used %. */
	unsigned int w_bytes, w_cmds, w_cpu, w_mem;
};
#define REDIR_WEIGHT_MAX 1000000u

struct redir_counters {
	uint64_t connections;
	uint64_t redirects;
	uint64_t discovery_sessions;
	uint64_t rejects;       /* unknown target (0x0203) or no server (0x0301) */
	uint64_t malformed;     /* connections closed for a malformed PDU */
	uint64_t refused;       /* connections refused over the table or per-source limit */
	uint64_t evicted;       /* unfinished logins closed to make room in a full table */
	uint64_t auth_failures; /* logins answered 0x0201 by the portal's CHAP */
};

/* Engine ops for the registry (start/reload/stop). */
extern const struct sa_engine_ops redir_engine_ops;

/* Lookups: O(log n).  *_next returns the first row with index > after. */
const struct redir_server *redir_server_find(uint32_t index);
const struct redir_server *redir_server_next(uint32_t after);
const struct redir_resource *redir_resource_find(uint32_t index);
const struct redir_resource *redir_resource_next(uint32_t after);
const struct redir_client *redir_client_find(uint32_t index);
const struct redir_client *redir_client_next(uint32_t after);
const struct redir_plan_record *redir_plan_find(uint32_t index);
const struct redir_plan_record *redir_plan_next(uint32_t after);
const struct redir_counters *redir_counters(void);
const struct redir_params *redir_params(void);
uint32_t redir_server_next_index(void); /* a free index for createAndGo */
uint32_t redir_resource_next_index(void);

/* Verbs.  Each has a validate function (RESERVE1: no side effect, returns
 * 0 or -EINVAL/-ERANGE/-ENOENT/-EEXIST/-EBUSY/-EPERM) and an apply
 * function (ACTION: persists nonVolatile rows, then applies; on error
 * nothing changed). */
struct redir_server_spec {
	char name[64];
	char host[REDIR_HOST_MAX];
	uint16_t port;
	uint32_t capacity;
	int admin;
	int storage;
	int tgt_control;
};
int redir_server_validate(uint32_t index, const struct redir_server_spec *spec);
int redir_server_create(uint32_t index, const struct redir_server_spec *spec);
int redir_server_validate_destroy(uint32_t index); /* -EPERM: a config or readOnly row */
int redir_server_destroy(uint32_t index);          /* its resources fail over first */
int redir_server_validate_admin(uint32_t index, int admin);
int redir_server_set_admin(uint32_t index, int admin); /* drain/down remaps its resources */
int redir_server_validate_capacity(uint32_t index, uint32_t capacity);
int redir_server_set_capacity(uint32_t index, uint32_t capacity);

struct redir_resource_spec {
	char target[REDIR_NAME_MAX];
	uint32_t server; /* 0 = let the engine place it */
	int pinned;
	int storage;
	int fail_policy; /* 0 = stay */
};
int redir_resource_validate(uint32_t index, const struct redir_resource_spec *spec);
/* Rows the same SET request creates, which a validate function takes as
 * existing: one request may create a server and a resource mapped to it. */
struct redir_txn_view {
	int (*server_created)(uint32_t index, void *arg);
	void *arg;
};
int redir_resource_validate_in(uint32_t index, const struct redir_resource_spec *spec,
                               const struct redir_txn_view *view);
int redir_resource_create(uint32_t index, const struct redir_resource_spec *spec);
int redir_resource_validate_destroy(uint32_t index);
int redir_resource_destroy(uint32_t index);
int redir_resource_validate_move(uint32_t index, uint32_t server);
int redir_resource_move(uint32_t index, uint32_t server); /* manual move: ends its sessions on the old server */
int redir_resource_set_load(uint32_t index, uint64_t load);
int redir_resource_set_pinned(uint32_t index, int pinned);
int redir_resource_validate_fail_policy(uint32_t index, int policy);
int redir_resource_set_fail_policy(uint32_t index, int policy); /* a pinned row on a failed server moves at once */

int redir_params_validate(const struct redir_params *p);
int redir_params_set(const struct redir_params *p);
int redir_rebalance_now(void); /* manual trigger: plans and applies asynchronously */

/* The portal's CHAP (creds.c): seed 003 keeps the clients' credentials in
 * the redirector's own table and checks them before a login goes on to a
 * server.  The server authenticates the initiator again with its own
 * account: the portal never relays secrets. */
enum redir_auth { REDIR_AUTH_NONE = 1, REDIR_AUTH_CHAP = 2 };
#define REDIR_CHAP_USER_MAX 255
#define REDIR_CHAP_SECRET_MIN 12 /* RFC 7143 12.1.3: at least 96 bits */
#define REDIR_CHAP_SECRET_MAX 255
struct redir_cred {
	uint32_t index;
	char user[REDIR_CHAP_USER_MAX + 1];
	char initiator[REDIR_NAME_MAX]; /* "" = any initiator may use it */
	int storage;                    /* enum redir_storage */
};
/* A row as a SET gives it, secret included (the handlers wipe it after the request). */
struct redir_cred_spec {
	uint32_t index;
	char user[REDIR_CHAP_USER_MAX + 1];
	char initiator[REDIR_NAME_MAX];
	char secret[REDIR_CHAP_SECRET_MAX + 1];
	int storage;
};
const struct redir_cred *redir_cred_find(uint32_t index);
const struct redir_cred *redir_cred_next(uint32_t after);
uint32_t redir_cred_next_index(void);
/* The row with its secret, for a SET to change one column and to undo. 0 or -ENOENT. */
int redir_cred_load(uint32_t index, struct redir_cred_spec *out);
/* -EMSGSIZE: secret length; -EINVAL: a user, secret or initiator that cannot be used; -EEXIST: the user is another
 * row's. */
int redir_cred_validate(const struct redir_cred_spec *s);
int redir_cred_put(const struct redir_cred_spec *s); /* creates or replaces; persists nonVolatile rows first */
int redir_cred_delete(uint32_t index);
/* The secret of user for initiator: its length, -ENOENT (no such user), -EACCES (bound to another initiator). */
int redir_cred_secret(const char *user, const char *initiator, char *secret, size_t size);

/* Redundancy: alone (state file), or leader/follower of redirectors sharing state through etcd. */
enum redir_role { REDIR_ROLE_STANDALONE = 1, REDIR_ROLE_LEADER = 2, REDIR_ROLE_FOLLOWER = 3 };
int redir_role(void);

/* Events for notifications and table caches, published on BUS_REDIRECT (common/bus.h). */
enum redir_event_type {
	REDIR_EV_SERVER_UP = 1,
	REDIR_EV_SERVER_DOWN,
	REDIR_EV_RESOURCE_REMAPPED, /* a: resource, b: old server, c: new server */
	REDIR_EV_REBALANCED,        /* a: plan index */
	REDIR_EV_ROW_ADDED,         /* a: table (enum redir_table), b: index */
	REDIR_EV_ROW_REMOVED,
	REDIR_EV_RESOURCE_STRANDED, /* a: resource, b: its server, which failed; it stays there (pinned, or nowhere to
	                               go) */
};
enum redir_table { REDIR_T_SERVER = 1, REDIR_T_RESOURCE, REDIR_T_CLIENT, REDIR_T_PLAN };
struct redir_event {
	int type;
	uint32_t a, b, c;
};

/* The storage servers' own sanagent agents (remote.c): the glue injects an
 * asynchronous SNMP client (common/snmp_client.h holds only plain C
 * types) before the engine starts; without it `agent` is ignored. */
#include "common/snmp_client.h"
struct redir_agent_ops {
	int (*walk)(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
	            cm_snmpc_done_cb done, void *arg);
	int (*set_int)(const struct cm_snmpc_peer *p, const uint32_t *oid, size_t oidlen, long value,
	               cm_snmpc_done_cb done, void *arg);
	void (*cancel_all)(void);
};
void redir_agent_ops_register(const struct redir_agent_ops *ops);

enum redir_agent_status {
	REDIR_AGENT_NONE = 1,    /* no agent configured */
	REDIR_AGENT_UNKNOWN = 2, /* not polled yet */
	REDIR_AGENT_OK = 3,
	REDIR_AGENT_TIMEOUT = 4,
	REDIR_AGENT_ERROR = 5,
};
struct redir_agent_info {
	int status; /* enum redir_agent_status */
	char peer[128];
	char error[128];
	uint64_t polls_ok, polls_failed;
	uint32_t targets; /* targets its last answer listed */
	time_t last_ok;
};
/* The agent state of a server (by index); NULL when it has none. */
const struct redir_agent_info *redir_server_agent(uint32_t server);

#endif
