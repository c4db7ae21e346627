/* redir_int.h: internals shared by the redirect engine's files (model, portal, health probes, tgt control). */
#ifndef SA_REDIR_INT_H
#define SA_REDIR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engines/redirect/redirect.h"
#include "iscsi/tgtctl.h"
#include "engines/redirect/redir_config.h"

/* ---- routing.c, model.c: the model as the portal and the probes see it ---- */

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
struct tk_buf;
int redir_sendtargets(struct tk_buf *b, const char *self_addr);

/* health.c reports one probe result. */
void redir_server_probed(uint32_t index, int ok, const char *why);

/* ---- portal.c ---------------------------------------------------------- */
struct redir_portal_limits {
	unsigned int max_connections;
	unsigned int max_per_source;    /* connections held at once from one address */
	unsigned int header_timeout_ms; /* a new connection's first full BHS must arrive by then */
	unsigned int login_timeout_ms;
	size_t max_data_segment;
};
int redir_portal_start(char *const *listen, size_t nlisten, const struct redir_portal_limits *lim, char *err,
                       size_t errlen);
void redir_portal_set_limits(const struct redir_portal_limits *lim);
void redir_portal_stop(void);
/* Credentials changed: initiators authenticated before must pass CHAP again. */
void redir_portal_auth_forget(void);
unsigned int redir_portal_nconns(void);

/* ---- sources.c: connections held per source address -------------------- */
unsigned int redir_src_count(const struct sockaddr_storage *ss);
int redir_src_hold(const struct sockaddr_storage *ss); /* 0, or -1 out of memory */
void redir_src_release(const struct sockaddr_storage *ss);

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
/* The list of servers to probe, read at every round (model.c). */
size_t redir_probe_targets(struct redir_probe_target *out, size_t max);
size_t redir_server_count(void);

/* ---- tgt control: iscsi/tgtctl.h (tgtc_read_stats, tgtc_end_sessions, tgtc_stop) ---- */

/* ---- remote.c: targets and loads from the servers' sanagent agents ----- */
/* (Re)reads the servers' agent settings; called after every config sync. */
int redir_remote_start(const struct sa_redirect_config *rc);
void redir_remote_stop(void);
/* Counter64 growth between two samples; a counter that went back (the
 * agent restarted, tgtd lost its sessions) counts from zero. */
uint64_t redir_remote_delta(uint64_t prev, uint64_t cur);
/* Bytes per second from a growth over secs; UINT64_MAX when unknown. */
uint64_t redir_remote_rate(uint64_t delta, double secs);
/* model.c and loads.c, for remote.c: */
uint32_t redir_server_index_by_name(const char *name);
/* One agent's answer in a round: the target names it serves and their
 * rates (UINT64_MAX: first sample, unknown); ok 0 = the agent did not
 * answer (its resources are kept, their loads are not touched). */
void redir_agent_report(uint32_t server, int ok, char *const *names, const uint64_t *rates, size_t n);
/* After every agent of a round reported: places new targets, drops
 * discovered ones no agent listed for grace_s, checks the threshold. */
void redir_agent_round(unsigned int grace_s);
/* A server's host figures from its agent's HOST-RESOURCES-MIB (-1: unknown). */
void redir_host_report(uint32_t server, int cpu_pct, int mem_pct);
/* A resource's weighted load from its measured rates. */
uint64_t redir_weighted(uint64_t bytes, uint64_t cmds);
/* Weights changed: every measured load and host load again. */
void redir_reweigh(void);

#endif
