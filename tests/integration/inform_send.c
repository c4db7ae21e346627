/* inform_send.c: one rediscovery message sent the way the name-server agent sends it (redisc_msg_encode and
 * cm_snmpc_inform, the agent's own code) to an initiator agent's trap receiver; waits for the acknowledgement.
 *
 *   inform_send PEER USER AUTH PRIV 1 INITIATOR TARGET NEW OLD
 *   inform_send PEER USER AUTH PRIV 2 INITIATOR TARGET NEW OLD OLD_TARGET otherPortal|otherTarget
 *
 * NEW and OLD are "ADDRESS:PORT".  Prints "acked after N ms" and exits 0, or prints why and exits 1 (2: usage). */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/snmp_client.h"
#include "tests/integration/snmp_loop.h"
#include "engines/redisc_msg.h"

static int done_rc = 1, finished;

static void on_done(int rc, const char *why, void *arg)
{
	(void)arg;
	done_rc = rc;
	finished = 1;
	if (rc)
		fprintf(stderr, "inform_send: %s (%s)\n", why ? why : "failed", strerror(-rc));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
	struct redisc_msg m;
	struct redisc_msg_enc enc;
	const uint32_t *toid;
	size_t tlen;
	uint64_t t0;
	int n, rc;

	if (argc < 10 || (argv[5][0] == '2' && argc < 12)) {
		fprintf(stderr,
		        "usage: inform_send PEER USER AUTH PRIV 1|2 INITIATOR TARGET NEW OLD [OLD_TARGET KIND]\n");
		return 2;
	}
	memset(&m, 0, sizeof(m));
	m.type = atoi(argv[5]);
	snprintf(m.initiator, sizeof(m.initiator), "%s", argv[6]);
	snprintf(m.target, sizeof(m.target), "%s", argv[7]);
	if (redisc_msg_portal_parse(argv[8], &m.portal) < 0 || redisc_msg_portal_parse(argv[9], &m.old) < 0) {
		fprintf(stderr, "inform_send: NEW and OLD are ADDRESS:PORT\n");
		return 2;
	}
	if (m.type == 2) {
		snprintf(m.old_target, sizeof(m.old_target), "%s", argv[10]);
		m.alt_kind = strcmp(argv[11], "otherTarget") == 0 ? REDISC_MSG_OTHER_TARGET : REDISC_MSG_OTHER_PORTAL;
	}
	if ((n = redisc_msg_encode(&m, &enc)) < 0) {
		fprintf(stderr, "inform_send: the message cannot be encoded\n");
		return 2;
	}
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	init_snmp("inform_send");
	{
		struct cm_snmpc_peer p = {.peer = argv[1],
		                          .user = argv[2],
		                          .auth_pass = argv[3],
		                          .priv_pass = argv[4],
		                          .timeout_ms = 1000,
		                          .retries = 2};

		toid = redisc_msg_trap_oid(m.type, &tlen);
		t0 = now_ms();
		if ((rc = cm_snmpc_inform(&p, toid, tlen, enc.vb, (size_t)n, on_done, NULL)) < 0) {
			fprintf(stderr, "inform_send: cannot send: %s\n", strerror(-rc));
			return 1;
		}
	}
	snmp_loop_until(&finished);
	if (done_rc == 0)
		printf("acked after %llu ms\n", (unsigned long long)(now_ms() - t0));
	return done_rc == 0 ? 0 : 1;
}
