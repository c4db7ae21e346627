/* redir_int.h: internals shared by the redirect engine's files (model, portal, health probes, tgt control). */
#ifndef SA_REDIR_INT_H
#define SA_REDIR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engines/redirect/redirect.h"
#include "subagent/config.h"

/* ---- engine.c: the model as the portal and the probes see it ---------- */

/* Counters the portal bumps. */
struct redir_counters *redir_counters_mut(void);

/* Decides a normal login: returns the login status to send (0x0101/0x0102
 * with addr filled as "HOST:PORT,1", 0x0203 unknown target, 0x0301 no usable
 * server) and records the client session. */
int redir_route_login(const char *target, const char *initiator, const uint8_t isid[6],
                      const struct sockaddr_storage *src, char *addr, size_t addrlen);
/* Records a discovery session. */
void redir_note_discovery(const char *initiator, const uint8_t isid[6], const struct sockaddr_storage *src);
/* Appends "TargetName=..\0TargetAddress=<self>\0" for every resource.  0 or -errno. */
struct sa_tk_buf;
int redir_sendtargets(struct sa_tk_buf *b, const char *self_addr);

/* health.c reports one probe result. */
void redir_server_probed(uint32_t index, int ok, const char *why);

/* ---- portal.c ---------------------------------------------------------- */
struct redir_portal_limits {
	unsigned int max_connections;
	unsigned int login_timeout_ms;
	size_t max_data_segment;
};
int redir_portal_start(char *const *listen, size_t nlisten, const struct redir_portal_limits *lim, char *err,
                       size_t errlen);
void redir_portal_set_limits(const struct redir_portal_limits *lim);
void redir_portal_stop(void);
unsigned int redir_portal_nconns(void);

/* ---- health.c ---------------------------------------------------------- */
struct redir_probe_target {
	uint32_t index;
	int family;
	char host[REDIR_HOST_MAX];
	uint16_t port;
};
/* Probes every server returned by the iterator every interval_ms. */
int redir_health_start(unsigned int interval_ms, unsigned int timeout_ms);
void redir_health_stop(void);
/* The list of servers to probe, read at every round (engine.c). */
size_t redir_probe_targets(struct redir_probe_target *out, size_t max);
size_t redir_server_count(void);

/* ---- tgtctl.c: tgtadm run as child processes, never waited on ----------- */
struct redir_tgt_counter {
	uint32_t tid;
	uint32_t lun;
	uint32_t sid;
	uint64_t bytes; /* rd_done + wr_done bytes */
};
struct redir_tgt_target {
	uint32_t tid;
	char name[REDIR_NAME_MAX];
};
struct redir_tgt_stats {
	struct redir_tgt_target *targets;
	size_t ntargets;
	struct redir_tgt_counter *counters;
	size_t ncounters;
};
/* cb gets rc 0 and the stats, or a negative errno (st NULL). */
typedef void (*redir_tgt_stats_cb)(uint32_t server, int rc, const struct redir_tgt_stats *st);
int redir_tgt_read_stats(uint32_t server, int control, redir_tgt_stats_cb cb);
/* Ends every connection of target on the tgtd at control (show, then delete each conn). */
int redir_tgt_end_sessions(int control, const char *target);
void redir_tgt_stop(void);
/* Parsers, exposed for unit tests. */
int redir_tgt_parse_show(const char *out, size_t len, struct redir_tgt_target **targets, size_t *ntargets);
int redir_tgt_parse_stat(const char *out, size_t len, struct redir_tgt_counter **ctr, size_t *n);
/* (tid, sid, cid) triples of one target from `--op show --mode target`. */
struct redir_tgt_conn {
	uint32_t tid;
	uint64_t sid;
	uint32_t cid;
};
int redir_tgt_parse_conns(const char *out, size_t len, const char *target, struct redir_tgt_conn **conns, size_t *n);

#endif
