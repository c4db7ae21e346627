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

/* Starts the worker and the SCN listener on TCP scn_port (0 = any free
 * port).  0 or a negative errno with err filled. */
int disc_isns_start(unsigned int scn_port, disc_isns_done_fn done, disc_isns_scn_fn scn, void *arg, char *err,
                    size_t errlen);
/* The port SCNs arrive on (0 when not started). */
uint16_t disc_isns_scn_port(void);
/* Queues a query of server for source src.  0, -EALREADY (one for src is
 * queued or running), -ENOMEM, -ENODEV (not started). */
int disc_isns_query(uint32_t src, const char *server, const char *initiator, int do_register);
/* Deregisters from the servers and stops the worker.  Waits for a call in
 * flight, bounded by isns_client's timeouts (a few seconds). */
void disc_isns_stop(char **servers, size_t n, const char *initiator);

#endif
