/* acl.c: placeholder until the unit's tgt ACLs land (owned by the cluprobe helper, who replaces this file whole). */
#include "engines/cluster/clu_int.h"

int clu_acl_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	(void)c;
	(void)err;
	(void)errlen;
	return 0;
}

void clu_acl_stop(void)
{
}
