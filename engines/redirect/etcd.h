/* etcd.h: redirectors sharing the mapping and server states through etcd (v3 JSON gateway), with one leader. */
#ifndef SA_REDIR_ETCD_H
#define SA_REDIR_ETCD_H

#include <stddef.h>

#include "engines/redirect/redir_config.h"

/* Keys under /sanagent/redirect/<cluster>/:
 *   leader          this leader's name, attached to its lease
 *   map/<target>    name of the server the target is mapped to
 *   server/<name>   "up", "down" or "unknown" (oper state seen by the leader)
 *   load/<target>   the target's load in bytes/s (decimal), as the leader has it
 *   admin/<name>    "up", "drain" or "down": the server's admin state, which
 *                   any redirector may write (an operator's SET on a
 *                   follower); the leader acts on it
 * The callbacks run inside the agent loop; they also report what this
 * redirector wrote itself (the watch echoes it), value NULL = deleted. */
struct redir_etcd_cbs {
	void (*role)(int leader);
	void (*map)(const char *target, const char *server);
	void (*server)(const char *name, const char *state);
	void (*load)(const char *target, const char *bytes_per_s);
	void (*admin)(const char *name, const char *state);
};

/* Non-blocking: everything runs through libcurl's multi interface on the
 * agent loop.  Starts as a follower; role() reports every change.
 * Returns 0, -ENOTSUP when built without libcurl/jansson, or -errno. */
int redir_etcd_start(const struct sa_redir_etcd_cfg *cfg, const char *self, const struct redir_etcd_cbs *cbs, char *err,
                     size_t errlen);
void redir_etcd_stop(void);
int redir_etcd_running(void);
int redir_etcd_is_leader(void);
/* Queue writes (leader only; batched into transactions on the next loop turn). */
void redir_etcd_put_map(const char *target, const char *server);
void redir_etcd_put_server(const char *name, const char *state);
void redir_etcd_put_load(const char *target, const char *bytes_per_s);
/* Any role: written at once, not guarded by the leader's lease. */
void redir_etcd_put_admin(const char *name, const char *state);

#endif
