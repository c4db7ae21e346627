/* isns.h: the discovery engine's iSNS side: a worker thread for libisns's blocking calls and an SCN listener. */
#ifndef SA_DISC_ISNS_H
#define SA_DISC_ISNS_H

#include <stddef.h>
#include <stdint.h>

#include "iscsi/isns_client.h"

/* A query's result, in the agent loop.  r is freed after the call. */
typedef void (*disc_isns_done_fn)(uint32_t src, struct sa_isns_result *r, void *arg);
/* An iSNS server told us something changed (an SCN arrived and was acknowledged). */
typedef void (*disc_isns_scn_fn)(void *arg);

struct disc_isns_opts {
	unsigned int scn_port;   /* TCP port for SCNs, 0 = any free one */
	const char *scn_address; /* numeric address to listen on; NULL or "" = ours towards the first server */
	unsigned int scn_idle_s; /* an SCN connection silent this long is closed */
};

/* Starts the worker and the SCN listener.  SCNs are taken only from the
 * servers' addresses ("ADDR:PORT", numeric; at least one).  0 or a
 * negative errno with err filled. */
int disc_isns_start(const struct disc_isns_opts *o, char *const *servers, size_t nservers, disc_isns_done_fn done,
                    disc_isns_scn_fn scn, void *arg, char *err, size_t errlen);
/* Replaces the servers SCNs are taken from (at a reload). */
int disc_isns_set_servers(char *const *servers, size_t n);
/* The port and address SCNs arrive on (0 and "" when not started). */
uint16_t disc_isns_scn_port(void);
const char *disc_isns_scn_host(char *buf, size_t len);
/* Queues a query of server for source src.  0, -EALREADY (one for src is
 * queued or running), -ENOMEM, -ENODEV (not started). */
int disc_isns_query(uint32_t src, const char *server, const char *initiator, int do_register);
/* Takes our registration off one server on the worker, in the background (a server no source names any more).
 * 0, -ENOMEM, -ENODEV (not started). */
int disc_isns_deregister(const char *server, const char *initiator);
/* Deregisters from the servers and stops the worker.  Waits for a call in
 * flight, bounded by isns_client's timeouts (a few seconds). */
void disc_isns_stop(char **servers, size_t n, const char *initiator);

#endif
