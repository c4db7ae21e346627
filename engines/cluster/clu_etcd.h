/* clu_etcd.h: the cluster engine's etcd backend (the seed's central fabric services database): membership and
 * the CRT under /sanagent/cluster/<cluster>/, the CRT's etcd revision as its version, every change a transaction
 * on the revision it was made against, every host watching.  Private to engines/cluster/. */
#ifndef SA_ENGINES_CLU_ETCD_H
#define SA_ENGINES_CLU_ETCD_H

#include <stddef.h>

#include "engines/cluster/clu_config.h"

/* Starts when c->etcd.present (else does nothing and returns 0); -ENOTSUP when built without libcurl/jansson. */
int clu_etcd_start(const struct sa_cluster_config *c, char *err, size_t errlen);
void clu_etcd_stop(void);
/* etcd is this engine's database (the peer sync is off). */
int clu_etcd_on(void);
/* The local table is etcd's as last read (a change may be made against it): 0 while etcd was never reached. */
int clu_etcd_ready(void);
/* After a local commit: the table goes to etcd in a transaction on its base revision (next loop turn). */
void clu_etcd_push(void);

#endif
