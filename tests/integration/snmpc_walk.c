/* snmpc_walk.c: the agent's own SNMP client (cm_snmpc_walk) in one process, one walk per line read on stdin, so
 * that a test can change the peer between two walks of the same process (its caches live as long as it does).
 *
 *   snmpc_walk PEER USER AUTH PRIV OID       then a line on stdin per walk; EOF ends
 *
 * Prints "walk N: rc R, V varbinds" per walk.  Exits 0, or 2 on bad usage. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/snmp_client.h"
#include "tests/integration/snmp_loop.h"

static int finished, result, nvb;

static int on_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	(void)vb;
	(void)arg;
	nvb++;
	return 0;
}

static void on_done(int rc, const char *why, void *arg)
{
	(void)arg;
	result = rc;
	finished = 1;
	if (rc)
		fprintf(stderr, "snmpc_walk: %s\n", why ? why : "failed");
}

int main(int argc, char **argv)
{
	struct cm_snmpc_peer p = {0};
	uint32_t root[MAX_OID_LEN];
	oid o[MAX_OID_LEN];
	size_t olen = MAX_OID_LEN;
	char line[64];
	int n = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: snmpc_walk PEER USER AUTH PRIV OID\n");
		return 2;
	}
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	init_snmp("snmpc_walk");
	if (!read_objid(argv[5], o, &olen)) {
		fprintf(stderr, "snmpc_walk: bad OID %s\n", argv[5]);
		return 2;
	}
	for (size_t i = 0; i < olen; i++)
		root[i] = (uint32_t)o[i];
	p.peer = argv[1];
	p.user = argv[2];
	p.auth_pass = argv[3];
	p.priv_pass = argv[4];
	p.timeout_ms = 1000;
	p.retries = 1;
	while (fgets(line, sizeof(line), stdin)) {
		int rc;

		finished = 0;
		nvb = 0;
		if ((rc = cm_snmpc_walk(&p, root, olen, on_vb, on_done, NULL)) < 0) {
			printf("walk %d: rc %d, 0 varbinds\n", ++n, rc);
			fflush(stdout);
			continue;
		}
		snmp_loop_until(&finished);
		printf("walk %d: rc %d, %d varbinds\n", ++n, result, nvb);
		fflush(stdout);
	}
	return 0;
}
