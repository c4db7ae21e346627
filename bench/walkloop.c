/* walkloop.c: walks one subtree N times with GETBULK from one process and prints varbinds and seconds. */
/*
 * Why not N runs of snmpbulkwalk: each run pays process start-up and MIB
 * loading, which is larger than a whole walk of a 40-object subtree, so the
 * figure would measure the tool, not the agent.
 *
 * usage: walkloop HOST:PORT COMMUNITY ROOT_OID N [MAX_REPETITIONS]
 * prints: walks=N varbinds=TOTAL per_walk=V seconds=S
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One walk of root; returns the number of varbinds inside the subtree, or -1. */
static long walk_once(netsnmp_session *ss, const oid *root, size_t rootlen, long maxrep)
{
	oid cur[MAX_OID_LEN];
	size_t curlen = rootlen;
	long count = 0;
	int done = 0;

	memcpy(cur, root, rootlen * sizeof(oid));
	while (!done) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETBULK), *resp = NULL;
		netsnmp_variable_list *v;
		int status;

		pdu->non_repeaters = 0;
		pdu->max_repetitions = maxrep;
		snmp_add_null_var(pdu, cur, curlen);
		status = snmp_synch_response(ss, pdu, &resp);
		if (status != STAT_SUCCESS || !resp || resp->errstat != SNMP_ERR_NOERROR) {
			snmp_sess_perror("walkloop", ss);
			if (resp)
				snmp_free_pdu(resp);
			return -1;
		}
		if (!resp->variables)
			done = 1;
		for (v = resp->variables; v; v = v->next_variable) {
			if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
			    v->type == SNMP_NOSUCHINSTANCE || v->name_length < rootlen ||
			    snmp_oid_ncompare(root, rootlen, v->name, v->name_length, rootlen) != 0) {
				done = 1;
				break;
			}
			count++;
			memcpy(cur, v->name, v->name_length * sizeof(oid));
			curlen = v->name_length;
		}
		snmp_free_pdu(resp);
	}
	return count;
}

int main(int argc, char **argv)
{
	netsnmp_session s, *ss;
	oid root[MAX_OID_LEN];
	size_t rootlen = MAX_OID_LEN;
	long n, maxrep = 10, per_walk = -1, total = 0;
	double t0, t1;

	if (argc < 5) {
		fprintf(stderr, "usage: walkloop HOST:PORT COMMUNITY ROOT_OID N [MAX_REPETITIONS]\n");
		return 2;
	}
	n = strtol(argv[4], NULL, 10);
	if (argc > 5)
		maxrep = strtol(argv[5], NULL, 10);
	if (n < 1 || maxrep < 1) {
		fprintf(stderr, "walkloop: N and MAX_REPETITIONS must be positive\n");
		return 2;
	}
	/* Numeric OIDs only: no MIB files needed or read. */
	setenv("MIBS", "", 1);
	init_snmp("walkloop");
	if (!read_objid(argv[3], root, &rootlen)) {
		fprintf(stderr, "walkloop: bad OID %s\n", argv[3]);
		return 2;
	}
	snmp_sess_init(&s);
	s.peername = argv[1];
	s.version = SNMP_VERSION_2c;
	s.community = (u_char *)argv[2];
	s.community_len = strlen(argv[2]);
	s.timeout = 2000000;
	s.retries = 1;
	ss = snmp_open(&s);
	if (!ss) {
		snmp_sess_perror("walkloop: snmp_open", &s);
		return 1;
	}
	/* One walk outside the clock: connection set-up and the agent's first-request caches. */
	if (walk_once(ss, root, rootlen, maxrep) < 0)
		return 1;
	t0 = now();
	for (long i = 0; i < n; i++) {
		long c = walk_once(ss, root, rootlen, maxrep);

		if (c < 0)
			return 1;
		/* A subtree that changes size under the benchmark would make the rate meaningless. */
		if (per_walk >= 0 && c != per_walk) {
			fprintf(stderr, "walkloop: walk %ld returned %ld varbinds, earlier %ld\n", i, c, per_walk);
			return 1;
		}
		per_walk = c;
		total += c;
	}
	t1 = now();
	printf("walks=%ld varbinds=%ld per_walk=%ld seconds=%.6f\n", n, total, per_walk, t1 - t0);
	snmp_close(ss);
	snmp_shutdown("walkloop");
	return 0;
}
